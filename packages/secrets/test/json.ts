/** The error envelope and typed JSON bodies, read the way every package's HTTP tests read them. */
export { type ErrorBody, errorCode, jsonBody } from "@amp/test-support";
