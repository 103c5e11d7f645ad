import { messageOf } from "../api/errors.js";

/** An error (an API refusal's message) or a piece of news, announced to screen readers. */
export function Notice(props: { error?: unknown; info?: string }) {
  if (props.error !== undefined && props.error !== null)
    return (
      <p class="notice error" role="alert">
        {messageOf(props.error)}
      </p>
    );
  if (props.info)
    return (
      <p class="notice" role="status">
        {props.info}
      </p>
    );
  return null;
}
