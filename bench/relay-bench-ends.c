// relay-bench-ends.c: C producer and consumer that speak our relay's protocols, so a throughput row can put the
// same C ends around our relay and around the C relay (uds.c fanout): the relay alone, not the Bun ends.
// Built at bench time like uds.c: gcc -O2 -o relay-bench-ends relay-bench-ends.c (bench/relay-bench-c.ts).
// The frame layout is not defined here: the harness writes a batch of real frames (schema/frame.ts encodeFrame)
// to TEMPLATE and passes the byte offsets it needs from schema/frame.ts FrameOffset.
//   prod PATH TEMPLATE SEQ_OFF TOTAL
//       Connect to the relay's ingest socket and write TEMPLATE's frames over and over, one blocking write of
//       the whole batch at a time (like uds.c prod), the u32 LE seq at SEQ_OFF of frame i set to i. Prints
//       {"t0":ns,"t1":ns,"cpuS":s} (CLOCK_REALTIME, like schema/clock.ts nowNs).
//   cons PATH NAME TOTAL SEQ_OFF KIND_OFF STATUS_KIND
//       Connect to the relay's consumer socket, send the filter line {"name":"NAME"} (relay/filter.ts), print
//       {"ready":true}, then read 256 KiB at a time, carrying partial frames across reads. Status frames (kind
//       nibble STATUS_KIND at KIND_OFF) are skipped; every other frame's seq must be the previous + 1 from 0.
//       After TOTAL data frames prints {"name","count","bad","tFirst","tLast","cpuS"} (as
//       bench/relay-bench-consumer.ts thru) and exits.
//   prodpaced PATH TEMPLATE SEQ_OFF TS_OFF RATE TOTAL
//       The latency runs' producer (as uds.c prodpaced): TEMPLATE's first frame, one frame per write at RATE/s on
//       absolute CLOCK_MONOTONIC sleeps (every 100 us at most), seq i, the i64 LE tsRecv at TS_OFF stamped with CLOCK_REALTIME just
//       before each write (schema/stamp.ts stampTsRecv). Prints {"t0":ns,"t1":ns,"cpuS":s}.
//   lat PATH NAME TOTAL SEQ_OFF KIND_OFF STATUS_KIND TS_OFF OUT
//       As cons, plus each data frame's latency (CLOCK_REALTIME right after the read that brought it − its
//       tsRecv, as uds.c consume stamps it) into OUT as TOTAL doubles in ns (the Bun `lat` consumer's file).
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FRAME 48

static void die(const char *m) { perror(m); exit(1); }

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int connect_unix(const char *path) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(a.sun_path)) { fprintf(stderr, "socket path too long\n"); exit(1); }
  strncpy(a.sun_path, path, sizeof(a.sun_path) - 1);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  if (s < 0) die("socket");
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  return s;
}

static void write_all(int s, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(s, p, n);
    if (w < 0) { if (errno == EINTR) continue; die("write"); }
    p += w;
    n -= (size_t)w;
  }
}

static void put_u32(unsigned char *p, uint32_t v) {
  p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = (v >> 24) & 0xff;
}

static uint32_t get_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void prod(const char *path, const char *template, int seq_off, long total) {
  FILE *f = fopen(template, "rb");
  if (!f) die("template");
  static unsigned char batch[1 << 20];
  size_t len = fread(batch, 1, sizeof batch, f);
  fclose(f);
  long per = (long)(len / FRAME);
  if (per == 0 || len % FRAME != 0) { fprintf(stderr, "template is not whole frames\n"); exit(1); }
  int s = connect_unix(path);
  double t0 = now_ns();
  for (long seq = 0; seq < total; seq += per) {
    long n = total - seq < per ? total - seq : per;
    for (long j = 0; j < n; j++) put_u32(batch + j * FRAME + seq_off, (uint32_t)(seq + j));
    write_all(s, (const char *)batch, (size_t)n * FRAME);
  }
  double t1 = now_ns();
  close(s);
  printf("{\"t0\":%.0f,\"t1\":%.0f,\"cpuS\":%.6f}\n", t0, t1, cpu_s());
  fflush(stdout);
}

static int64_t get_i64(const unsigned char *p) {
  return (int64_t)((uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32);
}

static void put_i64(unsigned char *p, int64_t v) {
  put_u32(p, (uint32_t)((uint64_t)v & 0xffffffffu));
  put_u32(p + 4, (uint32_t)((uint64_t)v >> 32));
}

static int64_t realtime_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void prodpaced(const char *path, const char *template, int seq_off, int ts_off, long rate, long total) {
  FILE *f = fopen(template, "rb");
  if (!f) die("template");
  unsigned char frame[FRAME];
  if (fread(frame, 1, FRAME, f) != FRAME) { fprintf(stderr, "template has no frame\n"); exit(1); }
  fclose(f);
  int s = connect_unix(path);
  // As uds.c prodpaced: a clock_nanosleep costs ~20 us of CPU on this VM, so above 10k msg/s it wakes every
  // 100 us and writes every frame that is due, each still its own write, stamped just before it.
  uint64_t period = 1000000000ull / (uint64_t)rate;
  uint64_t tick = period < 100000 ? 100000 : period;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t start = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, next = start;
  double t0 = now_ns();
  long i = 0;
  while (i < total) {
    next += tick;
    struct timespec w = {.tv_sec = (time_t)(next / 1000000000ull), .tv_nsec = (long)(next % 1000000000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &w, NULL);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long due = (long)(((uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - start) / period);
    if (due > total) due = total;
    for (; i < due; i++) {
      put_u32(frame + seq_off, (uint32_t)i);
      put_i64(frame + ts_off, realtime_ns());
      write_all(s, (const char *)frame, FRAME);
    }
  }
  double t1 = now_ns();
  close(s);
  printf("{\"t0\":%.0f,\"t1\":%.0f,\"cpuS\":%.6f}\n", t0, t1, cpu_s());
  fflush(stdout);
}

static void cons(const char *path, const char *name, long total, int seq_off, int kind_off, int status_kind,
                 int ts_off, const char *out) {
  int s = connect_unix(path);
  char line[256];
  int n = snprintf(line, sizeof line, "{\"name\":\"%s\"}\n", name);
  if (n <= 0 || n >= (int)sizeof line) { fprintf(stderr, "name too long\n"); exit(1); }
  write_all(s, line, (size_t)n);
  double cpu0 = cpu_s();
  printf("{\"ready\":true}\n");
  fflush(stdout);
  static unsigned char buf[(256 << 10) + FRAME];
  size_t carried = 0;
  long count = 0, bad = 0;
  uint32_t expect = 0;
  double t_first = 0;
  double *lat = out ? calloc((size_t)total, sizeof(double)) : NULL;
  if (out && !lat) die("calloc");
  while (count < total) {
    ssize_t r = read(s, buf + carried, sizeof buf - carried);
    if (r < 0) { if (errno == EINTR) continue; die("read"); }
    if (r == 0) break;
    int64_t t_read = lat ? realtime_ns() : 0;
    size_t have = carried + (size_t)r, off = 0;
    for (; off + FRAME <= have && count < total; off += FRAME) {
      const unsigned char *p = buf + off;
      if ((p[kind_off] & 0x0f) == status_kind) continue;
      if (count == 0) t_first = now_ns();
      uint32_t seq = get_u32(p + seq_off);
      if (seq != expect) bad++;
      expect = seq + 1;
      if (lat) lat[count] = (double)(t_read - get_i64(p + ts_off));
      count++;
    }
    carried = have - off;
    if (carried > 0) memmove(buf, buf + off, carried);
  }
  double t_last = now_ns();
  if (lat) {
    FILE *o = fopen(out, "wb");
    if (!o || fwrite(lat, sizeof(double), (size_t)total, o) != (size_t)total) die("latency file");
    fclose(o);
  }
  printf("{\"name\":\"%s\",\"count\":%ld,\"bad\":%ld,\"tFirst\":%.0f,\"tLast\":%.0f,\"cpuS\":%.6f}\n", name, count,
         bad, t_first, t_last, cpu_s() - cpu0);
  fflush(stdout);
  close(s);
}

int main(int argc, char **argv) {
  if (argc == 6 && !strcmp(argv[1], "prod")) prod(argv[2], argv[3], atoi(argv[4]), atol(argv[5]));
  else if (argc == 8 && !strcmp(argv[1], "cons"))
    cons(argv[2], argv[3], atol(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), 0, NULL);
  else if (argc == 8 && !strcmp(argv[1], "prodpaced"))
    prodpaced(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), atol(argv[6]), atol(argv[7]));
  else if (argc == 10 && !strcmp(argv[1], "lat"))
    cons(argv[2], argv[3], atol(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), atoi(argv[8]), argv[9]);
  else {
    fprintf(stderr, "usage: relay-bench-ends prod PATH TEMPLATE SEQ_OFF TOTAL | cons PATH NAME TOTAL SEQ_OFF KIND_OFF"
                    " STATUS_KIND | prodpaced PATH TEMPLATE SEQ_OFF TS_OFF RATE TOTAL | lat PATH NAME TOTAL SEQ_OFF"
                    " KIND_OFF STATUS_KIND TS_OFF OUT\n");
    return 2;
  }
  return 0;
}
