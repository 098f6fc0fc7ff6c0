/**
 * The WebSocket subprotocol to answer an MQTT-over-WebSocket client with (`ws`'s `handleProtocols`): `mqtt`
 * (MQTT 3.1.1 and 5), or `mqttv3.1` from older clients; false (refused) for anything else.
 */
export function pickMqttSubprotocol(protocols: Set<string>): string | false {
  if (protocols.has('mqtt')) return 'mqtt';
  if (protocols.has('mqttv3.1')) return 'mqttv3.1';
  return false;
}
