/* close_range over sockets: first only marking one close-on-exec, then closing them all.
   Afterwards fd 3 is a file, and a read from it is not a socket call.
   usage: closerange FILE */
#include "check.h"
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
    int sv[2];
    char buf[4];
    CHECK(argc == 2);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && sv[0] == 3 && sv[1] == 4);
    CHECK(socket(AF_INET, SOCK_STREAM, 0) == 5);
    CHECK(syscall(SYS_close_range, 5, 5, CLOSE_RANGE_CLOEXEC) == 0);
    CHECK(syscall(SYS_close_range, 3, ~0U, 0) == 0);
    int f = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(f == 3);
    CHECK(write(f, "file", 4) == 4);
    CHECK(pread(f, buf, sizeof buf, 0) == 4);
    CHECK(close(f) == 0);
    return 0;
}
