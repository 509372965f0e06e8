export { ConfigError, formatIssue, type ConfigIssue } from './errors.js';
export { DEFAULT_CONFIG_PATH, loadConfigFile } from './load.js';
export { configToYaml, defaultConfig, parseConfigText } from './parse.js';
export { formatDuration, parseDuration } from './duration.js';
export type {
  Config, ConfigInput, DeviceConfig, HouseholdConfig, LinkConfig, LogConfig, LogLevel, PollConfig, ProfileDeviceConfig, Role,
  MeshConfig, RtuLinkConfig, RtuOverTcpLinkConfig, SimulatorConfig, StaticPeerConfig, SunSpecDeviceConfig, TcpLinkConfig, TrustConfig, WritablePointConfig,
  ApiConfig, HomeAssistantConfig, MarketConfig,
} from './schema.js';
