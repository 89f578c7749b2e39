/*
 * The C side of the ioctl benchmark: N calls of one ioctl on one path, timed with
 * CLOCK_MONOTONIC; prints nanoseconds per call for each of R rounds, one per line.
 * Usage: ioctl-loop <path> <request-hex> <arg: int|ptr> <calls> <rounds>
 * `ptr` passes a pointer to a 4-byte buffer (FIONREAD), `int` passes 0 by value
 * (VFIO_GET_API_VERSION). Compiled at bench time; never committed as a binary.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s <path> <request-hex> <int|ptr> <calls> <rounds>\n", argv[0]);
    return 2;
  }
  int fd = open(argv[1], O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  unsigned long req = strtoul(argv[2], NULL, 16);
  int by_ptr = argv[3][0] == 'p';
  long calls = atol(argv[4]);
  int rounds = atoi(argv[5]);
  int buf = 0;
  for (int r = 0; r < rounds; r++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < calls; i++) {
      int rc = by_ptr ? ioctl(fd, req, &buf) : ioctl(fd, req, 0UL);
      if (rc < 0) {
        perror("ioctl");
        return 1;
      }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("%.2f\n", ns / (double)calls);
    fflush(stdout);
  }
  close(fd);
  return 0;
}
