/**
 * timewait strategies for Reactor Netty's {@code HttpClient}: {@link
 * dev.timewait.reactornetty.TimeWaitReactorNetty}.
 */
package dev.timewait.reactornetty;
