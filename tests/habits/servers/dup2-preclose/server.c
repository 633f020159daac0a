/* HABIT: Java NIO's close: dup2() a pre-closed socket over the connection's fd (the release), then close() the fd */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    /* one end of a socketpair whose other end is closed: dup2'd over an fd, it releases
     * the socket the fd held while keeping the fd number taken until the real close */
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
        die("socketpair");
    int preclose = pair[0];
    close_or_die(pair[1]);
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    echo(conn);
    if (dup2(preclose, conn) < 0)  /* the connection's last reference goes here */
        die("dup2");
    close_or_die(conn);  /* now a reference to the pre-closed socket */
    close_or_die(listener);
    close_or_die(preclose);
    return 0;
}
