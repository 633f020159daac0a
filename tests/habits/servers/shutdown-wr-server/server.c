/* HABIT: shutdown(SHUT_WR) after the send, then close */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    echo(conn);
    if (shutdown(conn, SHUT_WR) < 0)
        die("shutdown");
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
