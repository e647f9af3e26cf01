// A socket's kernel send buffer through libc setsockopt (Bun has no API for them). Best effort: without libc or a
// file descriptor the OS default stays. The kernel caps the value at net.core.wmem_max.
import { dlopen, FFIType, ptr } from "bun:ffi";

const SOL_SOCKET = 1;
const SO_SNDBUF = 7;

const libc = (() => {
  try {
    return dlopen("libc.so.6", {
      setsockopt: {
        args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32],
        returns: FFIType.i32,
      },
    });
  } catch {
    return null;
  }
})();

// Its own ArrayBuffer so the GC never moves it under FFI.
const value = new Int32Array(new ArrayBuffer(8));
const valuePtr = libc ? ptr(value) : 0;

/**
 * Set SO_SNDBUF on a Bun socket to `bytes`; returns false when it could not be set. Bun sockets carry their
 * descriptor in `fd` (not in the published types).
 */
export function setSendBuffer(socket: object, bytes: number): boolean {
  const fd = (socket as { fd?: unknown }).fd;
  if (!libc || typeof fd !== "number" || fd < 0 || bytes <= 0) return false;
  value[0] = bytes;
  return libc.symbols.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, valuePtr, 4) === 0;
}
