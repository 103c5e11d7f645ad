import { tokenRefused } from "../auth/credentials.js";
import { authorization } from "./client.js";
import { ApiError } from "./errors.js";
import type { paths } from "./schema.js";

type Imported = paths["/x/apps/import"]["post"]["responses"][201]["content"]["application/json"];

export interface Upload {
  done: Promise<Imported>;
  cancel(): void;
}

/**
 * `POST /x/apps/import` through XMLHttpRequest, the one browser API that reports upload progress.
 * `onProgress` gets the fraction sent; `cancel()` aborts, and `done` rejects with `cancelled`.
 */
export function importRemix(file: Blob, onProgress: (fraction: number) => void): Upload {
  const xhr = new XMLHttpRequest();
  const done = new Promise<Imported>((resolve, reject) => {
    xhr.open("POST", "/x/apps/import");
    for (const [name, value] of Object.entries(authorization())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("content-type", "application/zip");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body as Imported);
      if (xhr.status === 401) tokenRefused();
      reject(ApiError.from(xhr.status, body));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload failed: the connection was lost"));
    xhr.onabort = () => reject(new ApiError(0, "cancelled", "the upload was cancelled"));
    xhr.send(file);
  });
  return { done, cancel: () => xhr.abort() };
}
