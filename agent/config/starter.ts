/** The commented starter file that `tonari init` writes. Its values are the defaults. */

/** Example links and devices; in the starter they are commented out, so it runs simulated. */
const EXAMPLE_LINKS_AND_DEVICES = `links:
  lan:                        # a name of your choice
    type: tcp                 # Modbus TCP (most hybrid inverters, SunSpec gateways)
    host: 192.168.1.50        # the inverter's address; give it a fixed lease on the router
    port: 502
    timeout: 1s
  rs485:
    type: rtu                 # RS-485 adapter on this machine (rtu-over-tcp: a serial gateway, with host and port)
    path: /dev/ttyUSB0
    baudRate: 9600            # 1200 ... 115200; must match the meter
    parity: none              # none, even or odd
    interRequestDelay: 20ms   # quiet time between requests on the bus

devices:
  inverter:
    type: sunspec             # registers found through the SunSpec models
    link: lan
    unit: 1                   # Modbus unit id; \`tonari scan\` finds it
    provides: [pv, battery]   # what this device measures: pv, battery, grid
    writable:                 # writes are refused unless listed here, with the allowed range
      - point: "124:OutWRte"  # SunSpec model 124 (storage), discharge rate in %
        min: -100
        max: 100
  meter:
    type: profile             # registers described by a profile
    profile: /etc/tonari/profiles/grid-meter.yaml   # a built-in profile name or a profile file
    link: rs485
    unit: 2
    provides: [grid]          # only one device may provide grid
    invertGrid: false         # true if the meter counts export as positive (SolarEdge)
`;

export interface StarterOptions {
  /** Write the example links and devices as live config instead of comments (used by tests). */
  examples?: 'commented' | 'active';
  /** Where the file is written, for the `tonari check` hint at its top. */
  path?: string;
}

export function starterConfigText(options: StarterOptions = {}): string {
  const examples = options.examples === 'active'
    ? EXAMPLE_LINKS_AND_DEVICES
    : EXAMPLE_LINKS_AND_DEVICES.split('\n').map((line) => (line ? `# ${line}` : '#')).join('\n').replace(/#$/, '');
  return `# tonari configuration.
#
# Check it after every change with:  tonari check ${options.path ?? '/etc/tonari/tonari.yaml'}
# Every key is optional unless noted; the values below are the defaults.
# Durations take a unit: 500ms, 2s, 5m, 1h. A misspelt or unknown key is an error.
# Reference for every key: docs/config-reference.md (the guide: docs/configuration.md)

# Who and where this household is. The position feeds the solar forecast.
household:
  name: household
  latitude: 35.68             # degrees, north positive
  longitude: 139.69           # degrees, east positive
  timezone: Asia/Tokyo        # IANA time zone
  zone: default               # trade only with neighbours in the same zone (a-z, 0-9, "-")

# Keys, the trade ledger and other state. The service user must be able to write here.
stateDir: /var/lib/tonari

log:
  level: info                 # fatal, error, warn, info, debug, trace or silent

# How often devices are read, and when a reading is too old to trade on.
poll:
  interval: 1s
  staleAfter: 5s              # at least the interval

# Links are the physical Modbus connections (one TCP connection or one serial bus each);
# devices sit on links, addressed by their unit id. With no devices, tonari runs a simulated
# household (see simulator below). To read real hardware, remove the "# " in front of the
# lines below and adapt them:
#
${examples}
# The simulated household used while no devices are configured.
simulator:
  speed: 1                    # 1 = real time; 60 = an hour per minute
  seed: 1                     # the same seed gives the same weather and load
  batteryWh: 10000            # battery capacity in Wh; 0 = no battery
  pvWp: 5000                  # solar panel peak power in W

# Meeting the neighbours: the embedded broker they connect to (mutual TLS, keys pinned),
# mDNS discovery on the LAN, and static neighbours beyond it. Pair a new neighbour with
# \`tonari pair --window 10m\` while the agent runs; \`tonari peers\` lists them.
mesh:
  enabled: true
  listen:
    host: 0.0.0.0             # address of the TLS listener for neighbours
    port: 8883
  localPort: 1883             # read-only plaintext listener on 127.0.0.1; none to disable
  discovery: true             # advertise and browse over mDNS
  peers: []                   # static neighbours: - { host: 192.168.1.60, port: 8883, fingerprint: <64 hex> }

# Neighbours trusted without pairing (the installer's allow-list). Their fingerprints come
# from their own \`tonari identity\`.
trust:
  peers: []                   # - { fingerprint: <64 hex>, name: Suzuki }

# Trading with the neighbours. Prices are in sen per kWh (100 sen = 1 yen).
market:
  enabled: true
  slotMinutes: 30             # 15, 30 or 60; the same on every peer
  openSlots: 48               # slots ahead open for orders
  gateClosure: 5m             # a slot's book closes this long before it starts
  timeZone: Asia/Tokyo        # the community's slot calendar; the same on every peer
  sellFloorSenPerKWh: 1000    # never sell below 10 yen (the utility buys surplus at about 8.5)
  buyCapSenPerKWh: 2500       # never buy above 25 yen (the utility sells at about 30)
  wheelingFeeSenPerKWh: 0     # network fee this agent bears per kWh; 0 behind one meter
  safetyMarginPct: 10         # share of the forecast surplus held back
  battery:
    reserveSocPct: 20         # kept for the household, never offered
    maySell: false            # true: offer battery energy that tomorrow's sun refills
    # capacityWh: 10000       # leave out to use what the devices report
    # maxPowerW: 5000
  utility:                    # fallbacks and the savings baseline
    retailSenPerKWh: 3000
    buybackSenPerKWh: 850
  settlement:
    toleranceWh: 50           # the two meters may differ by 50 Wh or 5 % of a contract
    tolerancePct: 5           #   (the larger) before it is flagged disputed
    readingTimeout: 2h        # how long missing readings are awaited before settling without them
`;
}
