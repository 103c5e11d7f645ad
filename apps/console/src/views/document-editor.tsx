import { useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import { ConfirmButton } from "../ui/confirm.js";
import { useDraft } from "../ui/draft.js";
import { Notice } from "../ui/notice.js";

export type Doc = Record<string, unknown>;

export const idOf = (doc: Doc) => (typeof doc._rmx_id === "string" ? doc._rmx_id : undefined);

/** One document as JSON: shown to readers, edited and deleted by those who may. */
export function DocumentEditor(props: {
  app: string;
  doc: Doc;
  editable: boolean;
  onSaved: () => void;
  onDeleted: () => void;
  onClose: () => void;
}) {
  const { app, doc } = props;
  const id = idOf(doc) ?? "";
  const [text, setText, clear] = useDraft(`doc.${app}.${id}`, JSON.stringify(doc, null, 2));
  const [error, setError] = useState<unknown>();
  const file = `${id}.json`;
  return (
    <section class="card editor" aria-label={`Document ${id}`}>
      <h2>
        Document <code>{id}</code>
      </h2>
      <Notice error={error} />
      <label for="doc-json">{props.editable ? "JSON (edit and save)" : "JSON"}</label>
      <textarea
        id="doc-json"
        rows={16}
        spellcheck={false}
        readOnly={!props.editable}
        maxLength={1_000_000}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <div class="toolbar">
        {props.editable ? (
          <>
            <button
              type="button"
              onClick={async () => {
                setError(undefined);
                let parsed: Doc;
                try {
                  parsed = JSON.parse(text) as Doc;
                } catch (e) {
                  return setError(new Error(`Not JSON: ${(e as Error).message}`));
                }
                try {
                  await ok(
                    api.PUT("/{app}/documents/{file}", { params: { path: { app, file } }, body: parsed }),
                  );
                  clear();
                  props.onSaved();
                } catch (e) {
                  setError(e);
                }
              }}
            >
              Save document
            </button>
            <ConfirmButton
              label="Delete document"
              question={`Delete ${id}?`}
              onConfirm={async () => {
                try {
                  await ok(api.DELETE("/{app}/documents/{file}", { params: { path: { app, file } } }));
                  clear();
                  props.onDeleted();
                } catch (e) {
                  setError(e);
                }
              }}
            />
          </>
        ) : null}
        <button
          type="button"
          onClick={() => {
            clear();
            props.onClose();
          }}
        >
          Close
        </button>
      </div>
    </section>
  );
}
