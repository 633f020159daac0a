/* HABIT: the echo with plain read() and write() on the socket */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    char buf[4096];
    ssize_t n = read(conn, buf, sizeof buf);
    if (n < 0)
        die("read");
    ssize_t sent = 0;
    while (sent < n) {
        ssize_t w = write(conn, buf + sent, (size_t)(n - sent));
        if (w < 0)
            die("write");
        sent += w;
    }
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
