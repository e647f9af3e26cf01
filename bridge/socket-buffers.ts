// How much a client's socket may hold in the kernel before the bridge sees it as backpressure. Without a bound,
// Linux takes up to net.ipv4.tcp_wmem's max (4 MiB here) of unsent bytes per socket: 1,000 clients that never
// read took ~1.5 GiB of kernel buffers (tcp_mem pressure) before uWS buffered a byte, so getBufferedAmount and
// every slow-client bound (slow-clients.ts) saw nothing for seconds while each publish copied up to 64 KiB into
// 1,000 sockets: 150-340 ms per publish, the normal client behind them for up to ~9 s (the flaky
// slow-clients.rss.test.ts). TCP_NOTSENT_LOWAT on the listening socket (inherited by every accepted one)
// bounds the unsent bytes the kernel takes per socket; the rest stays in uWS's buffer, where the policy counts
// it. Bytes in flight (the receiver's window) are not limited, so a reading client's rate is unchanged.
import { readdirSync, readlinkSync } from "node:fs";

/**
 * Unsent bytes the kernel may hold per client socket. A reading client is unaffected (the limit is on what waits
 * behind the bytes in flight, and the kernel asks for more as it drains); a client that stops reading shows in
 * getBufferedAmount after about this much plus its receive window instead of after several MiB.
 */
export const KERNEL_UNSENT_BYTES = 64 << 10;

const SOL_SOCKET = 1;
const SO_ACCEPTCONN = 30;
const IPPROTO_TCP = 6;
const TCP_NOTSENT_LOWAT = 25;
const AF_INET = 2;
const AF_INET6 = 10;

interface Libc {
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  getsockname(fd: number, addr: Uint8Array, len: Uint8Array): number;
}

let libc: Libc | null = null;

function loadLibc(): Libc {
  if (libc) return libc;
  const { dlopen, FFIType, ptr } = require("bun:ffi") as typeof import("bun:ffi");
  const symbols = {
    getsockopt: {
      args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr],
      returns: FFIType.i32,
    },
    setsockopt: {
      args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32],
      returns: FFIType.i32,
    },
    getsockname: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  } as const;
  let lastError: unknown;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      const s = dlopen(name, symbols).symbols;
      libc = {
        getsockopt: (fd, level, opt, value, len) => s.getsockopt(fd, level, opt, ptr(value), ptr(len)),
        setsockopt: (fd, level, opt, value, len) => s.setsockopt(fd, level, opt, ptr(value), len),
        getsockname: (fd, addr, len) => s.getsockname(fd, ptr(addr), ptr(len)),
      };
      return libc;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}

function readInt(lib: Libc, fd: number, level: number, opt: number): number | null {
  const value = new Uint8Array(4);
  const len = int32(4);
  if (lib.getsockopt(fd, level, opt, value, len) !== 0) return null;
  return new DataView(value.buffer).getInt32(0, true);
}

/** The TCP port a socket is bound to, or null for other sockets. */
function boundPort(lib: Libc, fd: number): number | null {
  const addr = new Uint8Array(128);
  const len = int32(addr.byteLength);
  if (lib.getsockname(fd, addr, len) !== 0) return null;
  const family = addr[0]! | (addr[1]! << 8);
  if (family !== AF_INET && family !== AF_INET6) return null;
  return (addr[2]! << 8) | addr[3]!;
}

/** This process's listening TCP sockets on `port` (Bun.serve does not expose its descriptors). */
export function listeningSockets(port: number): number[] {
  const lib = loadLibc();
  const fds: number[] = [];
  for (const name of readdirSync("/proc/self/fd")) {
    const fd = Number(name);
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // closed since the listing (readdir's own descriptor among them)
    }
    if (!target.startsWith("socket:")) continue;
    if (readInt(lib, fd, SOL_SOCKET, SO_ACCEPTCONN) !== 1) continue;
    if (boundPort(lib, fd) === port) fds.push(fd);
  }
  return fds;
}

export type NotsentResult = { applied: true; sockets: number } | { applied: false; reason: string };

/**
 * Set TCP_NOTSENT_LOWAT on the listening sockets of `port`, so every client accepted from now on lets the
 * kernel hold at most about `bytes` of unsent data (Linux; elsewhere nothing changes).
 */
export function limitUnsentBytes(port: number, bytes: number): NotsentResult {
  if (process.platform !== "linux") return { applied: false, reason: `not on ${process.platform}` };
  let lib: Libc;
  let fds: number[];
  try {
    lib = loadLibc();
    fds = listeningSockets(port);
  } catch (error) {
    return { applied: false, reason: `cannot reach the sockets: ${(error as Error).message}` };
  }
  if (fds.length === 0) return { applied: false, reason: `no listening socket on port ${port} found` };
  for (const fd of fds) {
    if (lib.setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, int32(bytes), 4) !== 0)
      return { applied: false, reason: `setsockopt(TCP_NOTSENT_LOWAT) failed on fd ${fd}` };
  }
  return { applied: true, sockets: fds.length };
}

/** TCP_NOTSENT_LOWAT of a socket (tests), or null. */
export function unsentLimit(fd: number): number | null {
  return readInt(loadLibc(), fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT);
}
