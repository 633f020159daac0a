/* Bytes moved into and out of a TCP connection without a send or a recv (issue 16 §2), in one
   process: sendfile from a memfd into the socket (with an offset, then from the file's own
   position), splice out of the socket into a pipe and from the pipe back into the socket,
   vmsplice of two buffers into a pipe spliced on into the socket, tee between two pipes (no
   socket: not recorded), and the calls a socket refuses: copy_file_range into it and
   vmsplice onto it.
   Prints nothing; exit status 0. */
#include "check.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

static void read_all(int fd, const char *want)
{
    size_t n = strlen(want), got = 0;
    char buf[64];
    CHECK(n <= sizeof buf);
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        CHECK(r > 0);
        got += r;
    }
    CHECK(memcmp(buf, want, n) == 0);
}

int main(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;

    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l == 3);
    CHECK(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(l, 1) == 0);
    CHECK(getsockname(l, (struct sockaddr *)&sa, &len) == 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(c == 4);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
    int s = accept(l, NULL, NULL);
    CHECK(s == 5);

    int m = memfd_create("reply", 0);
    CHECK(m == 6);
    CHECK(write(m, "hello sendfile", 14) == 14);

    /* sendfile with an offset (the file position stays at 14), then from the position */
    off_t off = 0;
    CHECK(sendfile(s, m, &off, 14) == 14 && off == 14);
    read_all(c, "hello sendfile");
    CHECK(lseek(m, 6, SEEK_SET) == 6);
    CHECK(sendfile(s, m, NULL, 100) == 8);
    read_all(c, "sendfile");

    int p[2], q[2];
    CHECK(pipe(p) == 0 && p[0] == 7 && p[1] == 8);
    CHECK(pipe(q) == 0);

    /* splice: out of the socket into a pipe, from the pipe back into the socket */
    CHECK(write(c, "ping", 4) == 4);
    CHECK(splice(s, NULL, p[1], NULL, 4, 0) == 4);
    CHECK(splice(p[0], NULL, s, NULL, 4, SPLICE_F_MORE) == 4);
    read_all(c, "ping");

    /* vmsplice two buffers into a pipe, tee it to another pipe, splice it into the socket */
    struct iovec iov[2] = {{.iov_base = "vm", .iov_len = 2}, {.iov_base = "splice", .iov_len = 6}};
    CHECK(vmsplice(p[1], iov, 2, 0) == 8);
    CHECK(tee(p[0], q[1], 8, 0) == 8);
    CHECK(splice(p[0], NULL, s, NULL, 8, 0) == 8);
    read_all(c, "vmsplice");
    char buf[8];
    CHECK(read(q[0], buf, sizeof buf) == 8 && memcmp(buf, "vmsplice", 8) == 0);

    /* what a socket refuses: copy_file_range (regular files only), vmsplice (pipes only) */
    CHECK(copy_file_range(m, &(off_t){0}, s, NULL, 4, 0) == -1);
    FAILS_WITH(vmsplice(s, iov, 2, 0), EBADF);

    CHECK(close(c) == 0 && close(s) == 0 && close(l) == 0);
    return 0;
}
