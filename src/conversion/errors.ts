/**
 * The two ways an adapter declines a message. Both live in the engine so every adapter throws
 * the same classes and the inbox can tell them apart without knowing any adapter.
 */

/**
 * A message this adapter does not convert after all (an event or variant it does not cover).
 * The message is still accepted and stored as `filtered` with this reason; never NACKed for it.
 * `hl7ErrorCode` (200 unsupported message type, 201 unsupported event) is used only when a
 * source's `accept` policy refuses the message.
 */
export class UnsupportedMessageError extends Error {
  override readonly name = 'UnsupportedMessageError';
  constructor(
    message: string,
    readonly hl7ErrorCode: '200' | '201' = '201',
  ) {
    super(message);
  }
}

/**
 * Data that would map wrongly (no PID, no patient identifier, a merge without MRG): the message
 * is NACKed (AE) and stored as rejected. `location` is an HL7 path such as `PID-3`.
 */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(
    message: string,
    readonly location: string,
  ) {
    super(message);
  }
}
