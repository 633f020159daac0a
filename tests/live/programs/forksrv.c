/* A forking echo server and its client in one program, three processes:
     parent   listens, forks the client, accepts, forks a handler, closes its copy
     client   connects, sends "ping", reads the echo
     handler  closes the listener, echoes what it reads on the inherited connection */
#include "check.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int wait_ok(pid_t pid)
{
    int status;
    return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(void)
{
    char buf[16];
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;

    int l = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(l == 3);
    CHECK(bind(l, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(l, 4) == 0);
    CHECK(getsockname(l, (struct sockaddr *)&addr, &len) == 0);

    pid_t client = fork();
    CHECK(client >= 0);
    if (client == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(c == 4);
        CHECK(connect(c, (struct sockaddr *)&addr, sizeof addr) == 0);
        CHECK(send(c, "ping", 4, 0) == 4);
        CHECK(recv(c, buf, sizeof buf, MSG_WAITALL) == 4 && memcmp(buf, "ping", 4) == 0);
        CHECK(close(c) == 0);
        _exit(0);
    }

    struct sockaddr_in peer;
    len = sizeof peer;
    int s = accept(l, (struct sockaddr *)&peer, &len);
    CHECK(s == 4);
    pid_t handler = fork();
    CHECK(handler >= 0);
    if (handler == 0) {
        CHECK(close(l) == 0);
        ssize_t n = recv(s, buf, sizeof buf, 0);
        CHECK(n == 4);
        CHECK(send(s, buf, n, 0) == n);
        CHECK(close(s) == 0);
        _exit(0);
    }
    CHECK(close(s) == 0);
    CHECK(wait_ok(handler));
    CHECK(wait_ok(client));
    CHECK(close(l) == 0);
    return 0;
}
