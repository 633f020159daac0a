/* HABIT: non-blocking connect (EINPROGRESS), poll for POLLOUT, getsockopt(SO_ERROR), then blocking I/O */
#include "../../habit.h"
#include <poll.h>

int main(int argc, char *argv[])
{
    need_args(argc, argv, 4, "HOST PORT MESSAGE");
    const char *message = argv[3];
    size_t len = strlen(message);
    struct sockaddr_storage addr;
    socklen_t addrlen = address(argv[1], argv[2], &addr);
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (struct sockaddr *)&addr, addrlen) < 0) {
        if (errno != EINPROGRESS)
            die("connect");
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, 5000) != 1)
            die("poll");
        int err = 0;
        socklen_t elen = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            die("getsockopt");
        if (err) {
            errno = err;
            die("connect (SO_ERROR)");
        }
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
        die("F_SETFL");
    send_all(fd, message, len);
    receive_and_print(fd, len);
    return 0;
}
