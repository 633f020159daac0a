/* HABIT: an AF_INET6 listener whose accept() passes a 16-byte (struct sockaddr_in) buffer: the peer address is cut short */
#include "../../habit.h"

int main(int argc, char *argv[])
{
    need_args(argc, argv, 3, "HOST PORT");
    int listener = listen_on(argv[1], argv[2]);  /* HOST is IPv6: an AF_INET6 listener */
    struct sockaddr_in small;  /* 16 bytes; an IPv6 peer needs 28 */
    socklen_t len = sizeof small;
    int conn = accept(listener, (struct sockaddr *)&small, &len);
    if (conn < 0)
        die("accept");
    if (len <= sizeof small)
        fprintf(stderr, "accept reported %u bytes (expected more than %zu)\n", len,
                sizeof small);
    echo(conn);
    close_or_die(conn);
    close_or_die(listener);
    return 0;
}
