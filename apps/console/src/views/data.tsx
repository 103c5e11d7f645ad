import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import { ApiError, errorPlace } from "../api/errors.js";
import { mayWrite } from "../auth/app-roles.js";
import { useMe } from "../auth/me.js";
import { segment } from "../router.js";
import { ConfirmButton } from "../ui/confirm.js";
import { useDraft } from "../ui/draft.js";
import { Link } from "../ui/link.js";
import { Notice } from "../ui/notice.js";
import { type Doc, DocumentEditor, idOf } from "./document-editor.js";
import { offsetOf, QueryError } from "./query-error.js";

const PAGE = 25;

interface Results {
  docs: Doc[];
  /** Browsing: the server's cursor of the next page. A query's answer is paged here instead. */
  next?: string;
  from: number;
}

const typeOf = (doc: Doc) => (typeof doc._rmx_type === "string" ? doc._rmx_type : "");
const preview = (doc: Doc) =>
  JSON.stringify(Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith("_rmx_")))).slice(
    0,
    120,
  );

/**
 * An app's documents: browsed in id order (paged by the server) or found with the query
 * language (its syntax errors shown at their line and column); each opens as JSON.
 */
export function AppData(props: { app: string }) {
  const { app } = props;
  const me = useMe();
  const [query, setQuery] = useDraft(`query.${app}`, "");
  const [opened, setOpened, clearOpened] = useDraft<string | undefined>(`open.${app}`, undefined);
  const [doc, setDoc] = useState<Doc>();
  const [results, setResults] = useState<Results>();
  const [all, setAll] = useState<Doc[]>();
  // Browsing: the `after` cursor each page up to this one was loaded with.
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [error, setError] = useState<unknown>();
  const [syntax, setSyntax] = useState<{ query: string; line: number; column: number; message: string }>();
  const [editable, setEditable] = useState(me.root);
  const editor = useRef<HTMLTextAreaElement>(null);

  const browse = async (after: string | undefined, from: number) => {
    const page = await ok(
      api.GET("/{app}", { params: { path: { app }, query: { limit: PAGE, ...(after ? { after } : {}) } } }),
    );
    setAll(undefined);
    setResults({ docs: page.documents as Doc[], ...(page.next ? { next: page.next } : {}), from });
  };

  const run = async () => {
    setError(undefined);
    setSyntax(undefined);
    setSelected(new Set());
    try {
      if (!query.trim()) {
        setCursors([undefined]);
        return await browse(undefined, 0);
      }
      const docs = (await ok(
        api.GET("/{app}/query.json", { params: { path: { app }, query: { query } } }),
      )) as Doc[];
      setAll(docs);
      setResults({ docs: docs.slice(0, PAGE), from: 0 });
    } catch (e) {
      const place = e instanceof ApiError ? errorPlace(e.message) : undefined;
      if (e instanceof ApiError && place) {
        setSyntax({ query, ...place, message: e.message });
        const at = offsetOf(query, place.line, place.column);
        editor.current?.focus();
        editor.current?.setSelectionRange(at, at + 1);
      } else setError(e);
    }
  };

  const page = async (direction: 1 | -1) => {
    if (!results) return;
    const from = results.from + direction * PAGE;
    if (all) return setResults({ docs: all.slice(from, from + PAGE), from });
    const trail = direction === 1 ? [...cursors, results.next] : cursors.slice(0, -1);
    try {
      await browse(trail.at(-1), from);
      setCursors(trail);
    } catch (e) {
      setError(e);
    }
  };

  useEffect(() => {
    void run();
    // Writers (allowed_create; builders and root hold it too) may edit: the API says who holds it.
    if (!me.root)
      ok(api.GET("/x/apps/{app}", { params: { path: { app } } })).then(
        (detail) => setEditable(mayWrite(detail.roles)),
        () => setEditable(false),
      );
    if (opened)
      ok(api.GET("/{app}/documents/{file}", { params: { path: { app, file: `${opened}.json` } } })).then(
        (d) => setDoc(d as Doc),
        setError,
      );
  }, [app]);

  const hasMore = results && (all ? results.from + PAGE < all.length : results.next !== undefined);

  return (
    <section>
      <p class="crumbs">
        <Link to="apps">Apps</Link> / <Link to={`apps/${segment(app)}`}>{app}</Link> / <span>Data</span>
      </p>
      <h1>Data of {app}</h1>
      <form
        class="query"
        onSubmit={(event) => {
          event.preventDefault();
          void run();
        }}
      >
        <label for="query">Query (empty: every document in id order)</label>
        <textarea
          id="query"
          ref={editor}
          rows={3}
          maxLength={10_000}
          spellcheck={false}
          value={query}
          aria-invalid={syntax ? "true" : undefined}
          aria-describedby={syntax ? "query-error" : undefined}
          onInput={(e) => setQuery(e.currentTarget.value)}
          placeholder='_rmx_type == "app" | { name }'
        />
        <button type="submit">Run</button>
      </form>
      <div id="query-error">{syntax ? <QueryError {...syntax} /> : null}</div>
      <Notice error={error} />
      {doc ? (
        <DocumentEditor
          key={idOf(doc)}
          app={app}
          doc={doc}
          editable={editable}
          onSaved={() => {
            setDoc(undefined);
            clearOpened();
            void run();
          }}
          onDeleted={() => {
            setDoc(undefined);
            clearOpened();
            void run();
          }}
          onClose={() => {
            setDoc(undefined);
            clearOpened();
          }}
        />
      ) : null}
      {results ? (
        <>
          {editable && selected.size > 0 ? (
            <div class="toolbar">
              <ConfirmButton
                label={`Delete ${selected.size} selected`}
                question={`Delete ${selected.size} documents?`}
                onConfirm={async () => {
                  try {
                    await ok(
                      api.DELETE("/{app}", { params: { path: { app } }, body: { ids: [...selected] } }),
                    );
                    void run();
                  } catch (e) {
                    setError(e);
                  }
                }}
              />
            </div>
          ) : null}
          <div class="scroll">
            <table class="list" aria-label="Documents">
              <thead>
                <tr>
                  {editable ? <th scope="col">Select</th> : null}
                  <th scope="col">Id</th>
                  <th scope="col">Type</th>
                  <th scope="col" class="wide-only">
                    Fields
                  </th>
                </tr>
              </thead>
              <tbody>
                {results.docs.length === 0 ? (
                  <tr>
                    <td colSpan={4}>No documents.</td>
                  </tr>
                ) : (
                  results.docs.map((d, i) => {
                    const id = idOf(d);
                    return (
                      <tr key={id ?? i}>
                        {editable ? (
                          <td>
                            {id ? (
                              <input
                                type="checkbox"
                                aria-label={`Select ${id}`}
                                checked={selected.has(id)}
                                onChange={(e) => {
                                  const next = new Set(selected);
                                  if (e.currentTarget.checked) next.add(id);
                                  else next.delete(id);
                                  setSelected(next);
                                }}
                              />
                            ) : null}
                          </td>
                        ) : null}
                        <td>
                          {id ? (
                            <button
                              type="button"
                              class="link"
                              onClick={() => {
                                setOpened(id);
                                setDoc(d);
                              }}
                            >
                              {id}
                            </button>
                          ) : (
                            <span class="hint">(projected)</span>
                          )}
                        </td>
                        <td>{typeOf(d)}</td>
                        <td class="preview">{preview(d)}</td>
                      </tr>
                    );
                  })
                )}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages">
            <button type="button" disabled={results.from === 0} onClick={() => page(-1)}>
              Previous
            </button>
            <span>
              {results.docs.length === 0
                ? "0"
                : `${results.from + 1}–${results.from + results.docs.length}${all ? ` of ${all.length}` : ""}`}
            </span>
            <button type="button" disabled={!hasMore} onClick={() => page(1)}>
              Next
            </button>
          </nav>
        </>
      ) : null}
    </section>
  );
}
