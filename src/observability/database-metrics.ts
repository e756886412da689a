import type { CommandFailedEvent, CommandSucceededEvent, MongoClient } from 'mongodb';
import type { Metrics } from './metrics';

/** Times every command the driver sends; the client must be connected with `monitorCommands`. */
export function observeDatabaseCommands(client: MongoClient, metrics: Metrics): void {
  const observe = (succeeded: boolean) => (event: CommandSucceededEvent | CommandFailedEvent) => {
    metrics.observeDatabaseCommand(event.commandName, succeeded, event.duration / 1000);
  };
  client.on('commandSucceeded', observe(true));
  client.on('commandFailed', observe(false));
}
