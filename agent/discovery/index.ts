export { Discovery, type DiscoveryEvents, type DiscoveryOptions, type DiscoveryState } from './discovery.js';
export { openBonjour, type MdnsSocket, type MdnsStack, type MdnsStackOptions, type PublishConfig, type PublishedService } from './mdns-adapter.js';
export { parseResponse, type DnsPacket, type DnsRecord, type InstanceObservation } from './packet.js';
export { PeerTable, type TableEvent } from './peer-table.js';
export { classifyObservation, type Verdict } from './classify.js';
export { QuestionLimiter, isOnLink, type LocalInterfaceAddress, type Question, type QuestionLimiterOptions } from './responder-guard.js';
export {
  PROTOCOL_VERSION, SERVICE_FQDN, SERVICE_PROTOCOL, SERVICE_TYPE, ZONE_PATTERN,
  assertValidSelf, decodeTxt, encodeAdvertTxt, isValidPort, validateAdvert,
  type AdvertCheck, type AdvertFields, type TxtRecord, type ValidAdvert,
} from './txt.js';
export { backoffDelay } from './backoff.js';
export { zeroCounters, type ConflictKind, type DiscoveryCounters, type IdentityConflict, type LostReason, type PeerCandidate, type SelfAdvert } from './types.js';
