/**
 * The test kit: the contracts every timewait adapter passes, written once
 * ({@link dev.timewait.testing.AdapterContract}, {@link dev.timewait.testing.FaultContract},
 * {@link dev.timewait.testing.IntegrityContract}, {@link dev.timewait.testing.LoadContract},
 * {@link dev.timewait.testing.LogSecrecyContract},
 * {@link dev.timewait.testing.StaleConnectionContract}), and what they are built on: a raw HTTP
 * peer ({@link dev.timewait.testing.RawHttpPeer}), a self-signed certificate
 * ({@link dev.timewait.testing.TestTls}) and the kernel's count of client TIME_WAIT
 * ({@link dev.timewait.testing.KernelTcp}). An adapter for another client extends each contract
 * with one factory method and runs it in its own test scope.
 */
package dev.timewait.testing;
