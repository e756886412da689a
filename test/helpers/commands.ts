import type { CommandStartedEvent, Db } from 'mongodb';

/** How many commands of each name the app's client sends from now on. */
export function countCommands(db: Db): Map<string, number> {
  const counts = new Map<string, number>();
  db.client.on('commandStarted', (event: CommandStartedEvent) => {
    counts.set(event.commandName, (counts.get(event.commandName) ?? 0) + 1);
  });
  return counts;
}
