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
