/**
 * For adapters: the connection rules that every adapter applies the same way, so that an adapter
 * maps its client's hooks onto them and decides nothing on its own. Not part of the user API.
 */
package dev.timewait.spi;
