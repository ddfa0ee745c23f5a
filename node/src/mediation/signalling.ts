/**
 * One home for how switches' end-of-call codes map onto {@link Disposition}: SIP final responses
 * (RFC 3261 §21), ITU-T Q.850 release causes, and FreeSWITCH's hangup-cause names (its
 * `switch_call_cause_t`, which are Q.850 causes below 128 and its own above). Every format derives
 * its dispositions from these tables, so "busy" means the same whatever switch wrote the row.
 */
import type { Disposition } from "./types";

/** Disposition of an attempt from its final SIP response code, or null when the code is not a final response. */
export function dispositionOfSip(code: number): Disposition | null {
  if (!Number.isInteger(code) || code < 200 || code > 699) return null;
  if (code < 300) return "ANSWERED";
  switch (code) {
    case 486: // Busy Here
    case 600: // Busy Everywhere
    case 603: // Decline: the called party refused, a user-determined busy (ITU-T E.425)
      return "BUSY";
    case 408: // Request Timeout: nobody answered in time
    case 480: // Temporarily Unavailable: no answer, not registered
      return "NO_ANSWER";
    case 487: // Request Terminated: the caller cancelled
      return "CANCEL";
    case 503: // Service Unavailable: overloaded, no circuit
      return "CONGESTION";
    default:
      return "FAILED";
  }
}

/**
 * Disposition of an attempt from its Q.850 cause (0–127). `answered` says whether the call was
 * answered: cause 16 (normal clearing) then ends an answered call; before an answer it means the
 * caller hung up first.
 */
export function dispositionOfQ850(cause: number, answered: boolean): Disposition | null {
  if (!Number.isInteger(cause) || cause < 0 || cause > 127) return null;
  if (answered) return "ANSWERED";
  switch (cause) {
    case 16: // normal clearing before an answer: the caller gave up
    case 31: // normal, unspecified
      return "CANCEL";
    case 17: // user busy
    case 21: // call rejected
      return "BUSY";
    case 18: // no user responding
    case 19: // no answer from user (user alerted)
    case 20: // subscriber absent
      return "NO_ANSWER";
    case 34: // no circuit/channel available
    case 42: // switching equipment congestion
    case 44: // requested circuit/channel not available
    case 47: // resource unavailable, unspecified
      return "CONGESTION";
    default:
      return "FAILED";
  }
}

/**
 * FreeSWITCH hangup causes by name (`hangup_cause`): Q.850 causes below 128, FreeSWITCH's own
 * above (ORIGINATOR_CANCEL 487, ALLOTTED_TIMEOUT 602, PROGRESS_TIMEOUT 607, …).
 */
const FREESWITCH_CAUSES: Readonly<Record<string, number>> = {
  UNALLOCATED_NUMBER: 1,
  NO_ROUTE_TRANSIT_NET: 2,
  NO_ROUTE_DESTINATION: 3,
  CHANNEL_UNACCEPTABLE: 6,
  CALL_AWARDED_DELIVERED: 7,
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  SUBSCRIBER_ABSENT: 20,
  CALL_REJECTED: 21,
  NUMBER_CHANGED: 22,
  REDIRECTION_TO_NEW_DESTINATION: 23,
  EXCHANGE_ROUTING_ERROR: 25,
  DESTINATION_OUT_OF_ORDER: 27,
  INVALID_NUMBER_FORMAT: 28,
  FACILITY_REJECTED: 29,
  RESPONSE_TO_STATUS_ENQUIRY: 30,
  NORMAL_UNSPECIFIED: 31,
  NORMAL_CIRCUIT_CONGESTION: 34,
  NETWORK_OUT_OF_ORDER: 38,
  NORMAL_TEMPORARY_FAILURE: 41,
  SWITCH_CONGESTION: 42,
  ACCESS_INFO_DISCARDED: 43,
  REQUESTED_CHAN_UNAVAIL: 44,
  PRE_EMPTED: 45,
  FACILITY_NOT_SUBSCRIBED: 50,
  OUTGOING_CALL_BARRED: 52,
  INCOMING_CALL_BARRED: 54,
  BEARERCAPABILITY_NOTAUTH: 57,
  BEARERCAPABILITY_NOTAVAIL: 58,
  SERVICE_UNAVAILABLE: 63,
  BEARERCAPABILITY_NOTIMPL: 65,
  CHAN_NOT_IMPLEMENTED: 66,
  FACILITY_NOT_IMPLEMENTED: 69,
  SERVICE_NOT_IMPLEMENTED: 79,
  INVALID_CALL_REFERENCE: 81,
  INCOMPATIBLE_DESTINATION: 88,
  INVALID_MSG_UNSPECIFIED: 95,
  MANDATORY_IE_MISSING: 96,
  MESSAGE_TYPE_NONEXIST: 97,
  WRONG_MESSAGE: 98,
  IE_NONEXIST: 99,
  INVALID_IE_CONTENTS: 100,
  WRONG_CALL_STATE: 101,
  RECOVERY_ON_TIMER_EXPIRE: 102,
  MANDATORY_IE_LENGTH_ERROR: 103,
  PROTOCOL_ERROR: 111,
  INTERWORKING: 127,
  ORIGINATOR_CANCEL: 487,
  CRASH: 700,
  SYSTEM_SHUTDOWN: 701,
  LOSE_RACE: 502,
  MANAGER_REQUEST: 503,
  BLIND_TRANSFER: 600,
  ATTENDED_TRANSFER: 601,
  ALLOTTED_TIMEOUT: 602,
  USER_CHALLENGE: 603,
  MEDIA_TIMEOUT: 604,
  PICKED_OFF: 605,
  USER_NOT_REGISTERED: 606,
  PROGRESS_TIMEOUT: 607,
  GATEWAY_DOWN: 609,
};

/** The numeric cause of a FreeSWITCH hangup-cause name, or null for a name FreeSWITCH does not use. */
export function freeswitchCause(name: string): number | null {
  return FREESWITCH_CAUSES[name.toUpperCase()] ?? null;
}

/**
 * Disposition of an unanswered FreeSWITCH leg from its hangup cause: Q.850 causes as
 * {@link dispositionOfQ850}; the caller's cancel (ORIGINATOR_CANCEL) is CANCEL; timeouts waiting for
 * an answer (ALLOTTED_TIMEOUT, PROGRESS_TIMEOUT) are NO_ANSWER; an unknown name is FAILED.
 */
export function dispositionOfFreeswitchCause(name: string): Disposition {
  const cause = freeswitchCause(name);
  if (cause === null) return "FAILED";
  if (cause < 128) return dispositionOfQ850(cause, false) ?? "FAILED";
  switch (cause) {
    case 487:
    case 605: // picked off: someone else answered it
      return "CANCEL";
    case 602:
    case 607:
      return "NO_ANSWER";
    case 606:
      return "NO_ANSWER";
    case 609:
      return "CONGESTION";
    default:
      return "FAILED";
  }
}
