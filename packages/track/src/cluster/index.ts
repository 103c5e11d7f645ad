// Sessions across nodes on Redis: `@amp/track/cluster`, apart from the main entry so a single
// node never loads ioredis.
export type { OtherNodes, RelayTopic, TopicAnswer } from "./ask-all.js";
export { TrackCluster, type TrackClusterOptions } from "./cluster.js";
export { InProcessDirectory, type SessionDirectory, type SessionWhereabouts } from "./directory.js";
export { type RedisDirectoryOptions, RedisSessionDirectory } from "./redis-directory.js";
export { type RelayTarget, SessionRelay, type SessionRelayOptions } from "./relay.js";
export { type LocalOwners, type OwnerKind, SharedOwners } from "./shared-owners.js";
