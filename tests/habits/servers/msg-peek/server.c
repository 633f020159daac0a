/* HABIT: recv(MSG_PEEK) to look at the message, then the recv that takes it */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);
    int conn = accept_one(listener);
    char peek[16];
    if (recv(conn, peek, sizeof peek, MSG_PEEK) < 0)
        die("recv MSG_PEEK");
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
