/**
 * The worker's entry point (bundled as dist/server.js). The transport comes from the command
 * line, as vscode-languageclient passes it: --node-ipc (the extension), --stdio (tests).
 * Nothing here opens a network connection; the model runs in this process only.
 */
import { createConnection } from 'vscode-languageserver/node';
import { startServer } from './server';

const connection = createConnection();
startServer(connection, __dirname);
connection.listen();
// vscode-languageserver exits when stdin ends (--stdio), but over --node-ipc only its 3 s
// poll of the client's process id would notice the client is gone: a client that lives on
// after closing the channel would leave the worker, and its model, running for nothing.
process.once('disconnect', () => process.exit(1));
