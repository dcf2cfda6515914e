/* cmd_server.h - `pkictl server` (cmd_server.c). */
#ifndef PKICTL_CMD_SERVER_H
#define PKICTL_CMD_SERVER_H

/* argv[0] is "server". */
int cli_server_main(int argc, char **argv);

#endif
