import { execCommandLine, quoteUnitWord } from './systemd-quote.js';

/** What a bridge's systemd unit holds. */
export interface ServiceUnitOptions {
  /** The command: absolute Node path, absolute path of the bridge's bin script, then the bridge flags. */
  readonly command: readonly string[];
  /** The system user the bridge runs as (created by the installer). */
  readonly user: string;
  /** The `StateDirectory=` name, under /var/lib (recordings go there); also the `SyslogIdentifier=`. */
  readonly stateDirectory: string;
  /** Absolute path of the environment file (mode 0600) holding the secrets; undefined when there are none. */
  readonly environmentFile?: string | undefined;
  /** Absolute directories outside the state directory the bridge writes (`--record` elsewhere). Default: none. */
  readonly writableDirs?: readonly string[];
  /** Seconds between a failure and the restart (`RestartSec=`). Default: 5. */
  readonly restartDelayS?: number;
}

/**
 * Device classes (as named in /proc/devices) a camera bridge needs: V4L2 video nodes and sub-devices (the Pi
 * camera, USB cameras, the Pi 4's hardware encoder), media controllers (libcamera), DMA heaps (rpicam-vid's
 * buffers) and ALSA (microphones). Everything else under /dev is closed.
 */
const DEVICE_CLASSES = ['char-video4linux', 'char-media', 'char-dma_heap', 'char-alsa'];

/**
 * The text of the bridge's systemd service unit: runs `command` as `user` with the camera and sound groups,
 * restarts on failure, logs to the journal under the state directory's name, keeps recordings in
 * /var/lib/<stateDirectory>, and is sandboxed (read-only system, no home directories, private /tmp, no new
 * privileges, only camera and sound devices) without losing the camera.
 */
export function renderServiceUnit(options: ServiceUnitOptions): string {
  const name = options.stateDirectory;
  const writable = (options.writableDirs ?? []).filter(
    (dir) => dir !== `/var/lib/${name}` && !dir.startsWith(`/var/lib/${name}/`),
  );
  const lines = [
    '# Written by `framewire-bridge service install`; `framewire-bridge service uninstall` removes it.',
    '[Unit]',
    'Description=framewire bridge: cameras to browsers',
    // --room-url, --whip-push and --mqtt-url reach other machines: start once the network is up.
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${execCommandLine(options.command)}`,
    ...(options.environmentFile === undefined
      ? []
      : [`EnvironmentFile=${options.environmentFile.replaceAll('%', '%%')}`]),
    `User=${options.user}`,
    // The Pi camera and V4L2 devices belong to group video, microphones to group audio.
    'SupplementaryGroups=video audio',
    `StateDirectory=${name}`,
    `WorkingDirectory=/var/lib/${name}`,
    'Restart=on-failure',
    `RestartSec=${options.restartDelayS ?? 5}`,
    'TimeoutStopSec=20',
    'StandardOutput=journal',
    'StandardError=journal',
    `SyslogIdentifier=${name}`,
    // Sandbox. Not PrivateDevices= (it hides the camera) nor MemoryDenyWriteExecute= (Node's JIT needs it).
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'NoNewPrivileges=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    // AF_NETLINK: libcamera watches udev for cameras.
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    'DevicePolicy=closed',
    ...DEVICE_CLASSES.map((device) => `DeviceAllow=${device} rw`),
    ...writable.map((dir) => `ReadWritePaths=${quoteUnitWord(dir)}`),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}
