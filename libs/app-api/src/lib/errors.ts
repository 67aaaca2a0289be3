/** Generic error codes (spec §4.4) with the messages of ipernity's current pages. */
export const API_ERRORS = {
  100: 'Please add the api_key parameter to this request.',
  101: 'This API key is invalid or disabled.',
  102: 'The requested format is invalid. Valid formats are : json, xml, php.',
  103: 'The requested method is invalid or missing.',
  104: 'The query signature is missing.',
  105: 'The query signature is invalid.',
  106: 'User is not logged. The authentication token is missing.',
  107: 'The authentication token is invalid.',
  108: 'The user account is closed or suspended.',
  110: 'Insufficient permissions for this method.',
  111: 'The request came from a remote address not allowed by this application.',
  112: 'The application has reached its requests quota.',
  113: 'The client IP has reached a limit. Limits are based on requests per seconds, minutes, hours, ...',
  120: 'This API method must be called using HTTP POST.',
  500: 'Service error.',
  503: 'Service unavailable.',
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

/** An API error answered in the envelope with HTTP 200 (A7): a generic code or a method-local one. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    message?: string,
  ) {
    super(message ?? API_ERRORS[code as ApiErrorCode] ?? 'Error.');
  }
}
