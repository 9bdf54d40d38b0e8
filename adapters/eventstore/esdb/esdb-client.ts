// What the EventStoreDB store needs of `@eventstore/db-client`: the client's own methods and types, so
// that the real client and the scripted fake the tests use (tests/unit/eventstore/esdb/) are
// interchangeable, and nothing of the store can tell them apart.
import {
  EventStoreDBClient,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendResult,
  type AppendToStreamOptions,
  type EventData,
  type GetStreamMetadataResult,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ResolvedEvent,
  type StreamingRead,
  type SubscribeToAllOptions,
} from '@eventstore/db-client';

export interface EsdbClient {
  appendToStream(stream: string, events: EventData[], options: AppendToStreamOptions): Promise<AppendResult>;
  readStream(stream: string, options: ReadStreamOptions): StreamingRead<ResolvedEvent>;
  readAll(options: ReadAllOptions): StreamingRead<AllStreamResolvedEvent>;
  subscribeToAll(options: SubscribeToAllOptions): AllStreamSubscription;
  getStreamMetadata(stream: string, options: { requiresLeader?: boolean }): Promise<GetStreamMetadataResult>;
  /** The server's version as it reports it ("23.10.1.0"), or 'unknown' (servers before 21.10 do not say). */
  serverVersion(): Promise<string>;
  dispose(): Promise<void>;
}

/** The real client, connected lazily by the library on the first call. */
export function connectClient(connectionString: string): EsdbClient {
  const client = EventStoreDBClient.connectionString(connectionString);
  return {
    appendToStream: (stream, events, options) => client.appendToStream(stream, events, options),
    readStream: (stream, options) => client.readStream(stream, options),
    readAll: (options) => client.readAll(options),
    subscribeToAll: (options) => client.subscribeToAll(options),
    getStreamMetadata: (stream, options) => client.getStreamMetadata(stream, options),
    // The library asks the server's ServerFeatures service once per connection and keeps the answer
    // on a protected getter; it offers no public way to read the version.
    serverVersion: async () => {
      const features = await (client as unknown as { readonly capabilities: Promise<{ readonly serverVersion: string }> }).capabilities;
      return features.serverVersion;
    },
    dispose: () => client.dispose(),
  };
}
