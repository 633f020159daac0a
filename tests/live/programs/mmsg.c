/* A UDP echo over loopback in one process, a message vector at a time: the client sends 3
   datagrams with one sendmmsg (msg_name set on each), the server takes them with one recvmmsg
   and echoes them with one sendmmsg to the addresses it got, the client takes the echoes with
   recvmmsg: its second message gives room for only 4 bytes of address (family and port) and
   its third none (msg_name NULL). Last, a recvmmsg that finds nothing (EAGAIN).
   Prints nothing; exit status 0. */
#include "check.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define N 3

int main(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;

    int srv = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(srv == 3);
    CHECK(bind(srv, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(getsockname(srv, (struct sockaddr *)&sa, &len) == 0);
    int cli = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(cli == 4);

    /* the client: three datagrams, each addressed */
    static const char *const words[N] = {"one", "two!", "three"};
    struct mmsghdr out[N];
    struct iovec out_iov[N];
    memset(out, 0, sizeof out);
    for (int i = 0; i < N; i++) {
        out_iov[i] = (struct iovec){.iov_base = (void *)words[i], .iov_len = strlen(words[i])};
        out[i].msg_hdr = (struct msghdr){.msg_name = &sa, .msg_namelen = sizeof sa,
                                         .msg_iov = &out_iov[i], .msg_iovlen = 1};
    }
    CHECK(sendmmsg(cli, out, N, 0) == N);
    for (int i = 0; i < N; i++)
        CHECK(out[i].msg_len == strlen(words[i]));

    /* the server: all three at once, echoed to where each came from */
    struct mmsghdr in[N + 1];
    struct iovec in_iov[N + 1];
    char bufs[N + 1][16];
    struct sockaddr_in from[N + 1];
    memset(in, 0, sizeof in);
    for (int i = 0; i < N + 1; i++) {
        in_iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
        in[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_namelen = sizeof from[i],
                                        .msg_iov = &in_iov[i], .msg_iovlen = 1};
    }
    CHECK(recvmmsg(srv, in, N + 1, MSG_DONTWAIT, NULL) == N);
    for (int i = 0; i < N; i++) {
        CHECK(in[i].msg_len == strlen(words[i]) && in[i].msg_hdr.msg_namelen == sizeof sa);
        in_iov[i].iov_len = in[i].msg_len;  /* echo what came */
    }
    CHECK(sendmmsg(srv, in, N, 0) == N);

    /* the client takes the echoes: room for 4 bytes of the second address, none for the
       third */
    struct sockaddr_in back[N];
    memset(in, 0, sizeof in);
    for (int i = 0; i < N; i++) {
        in_iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
        in[i].msg_hdr = (struct msghdr){.msg_name = i < 2 ? &back[i] : NULL,
                                        .msg_namelen = i == 0 ? sizeof back[i] : i == 1 ? 4 : 0,
                                        .msg_iov = &in_iov[i], .msg_iovlen = 1};
    }
    CHECK(recvmmsg(cli, in, N, MSG_WAITFORONE, NULL) == N);
    for (int i = 0; i < N; i++)
        CHECK(in[i].msg_len == strlen(words[i]) && memcmp(bufs[i], words[i], in[i].msg_len) == 0);
    CHECK(in[1].msg_hdr.msg_namelen == sizeof sa);  /* the full length, 4 bytes copied */

    FAILS_WITH(recvmmsg(cli, in, N, MSG_DONTWAIT, NULL), EAGAIN);
    CHECK(close(cli) == 0 && close(srv) == 0);
    return 0;
}
