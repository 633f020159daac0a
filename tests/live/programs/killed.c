/* Dies of a signal.
     killed term     makes a socket, then raises SIGTERM
     killed kill     makes a socket, then raises SIGKILL
     killed accept   blocks in accept until a child it forked SIGKILLs it */
#include "check.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    CHECK(socket(AF_INET, SOCK_STREAM, 0) == 3);
    if (strcmp(argv[1], "term") == 0)
        raise(SIGTERM);
    else if (strcmp(argv[1], "kill") == 0)
        raise(SIGKILL);
    else if (strcmp(argv[1], "accept") == 0) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        CHECK(bind(3, (struct sockaddr *)&a, sizeof a) == 0);
        CHECK(listen(3, 1) == 0);
        pid_t parent = getpid();
        pid_t child = fork();
        CHECK(child >= 0);
        if (child == 0) {
            usleep(200000);
            kill(parent, SIGKILL);
            _exit(0);
        }
        accept(3, NULL, NULL);
    }
    return 99;
}
