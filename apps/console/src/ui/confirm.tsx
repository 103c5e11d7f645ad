import { useState } from "preact/hooks";

/**
 * A destructive action in two steps: the button asks, then "Yes, …" acts and "Cancel" backs out.
 * In the page rather than window.confirm, so it is styled, keyboard-reachable and testable.
 */
export function ConfirmButton(props: {
  label: string;
  question: string;
  onConfirm: () => void | Promise<void>;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <fieldset class="confirm">
      <legend>{props.question}</legend>
      <button
        type="button"
        class="danger"
        // biome-ignore lint/a11y/noAutofocus: the question just appeared where the person acted
        autoFocus
        onClick={async () => {
          setAsking(false);
          await props.onConfirm();
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </fieldset>
  );
}
