// transfer.ts: uploads (IMPORT_ASSET_FROM_SIGNED_URL) and downloads
// (EXPORT_ASSET_TO_SIGNED_URL) from the browser.
import SparkMD5 from "spark-md5";
import { ApiError } from "./api";
import { createJob, runJob, startJob, waitJob, type Job } from "./adx";

const chunk = 4 << 20;

/** md5Base64 is the base64 MD5 of a file, read in chunks. */
export async function md5Base64(file: Blob, onProgress: (done: number) => void): Promise<string> {
  const spark = new SparkMD5.ArrayBuffer();
  for (let off = 0; off < file.size; off += chunk) {
    const buf = await file.slice(off, off + chunk).arrayBuffer();
    spark.append(buf);
    onProgress(Math.min(file.size, off + chunk));
  }
  return btoa(spark.end(true));
}

/** put sends a file to a signed URL, reporting bytes sent. */
export function put(url: string, file: Blob, md5: string, onProgress: (done: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.setRequestHeader("Content-MD5", md5);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size);
        resolve();
        return;
      }
      const text = xhr.responseText || "";
      const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP ${xhr.status}`;
      const msg = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? xhr.statusText;
      reject(new ApiError(code, `the upload to the signed URL failed: ${msg}`, xhr.status));
    };
    xhr.onerror = () => reject(new ApiError("NetworkError", "the upload to the signed URL failed (network error)", 0));
    xhr.send(file);
  });
}

export type UploadPhase = "queued" | "hashing" | "creating" | "uploading" | "starting" | "importing" | "done" | "failed";

export interface UploadState {
  file: File;
  phase: UploadPhase;
  done: number;
  job?: Job;
  error?: unknown;
}

/** upload runs one file through hashing, CreateJob, PUT, StartJob and the import. */
export async function upload(file: File, dataSetId: string, revisionId: string, update: (s: Partial<UploadState>) => void): Promise<Job> {
  update({ phase: "hashing", done: 0 });
  const md5 = await md5Base64(file, (done) => update({ done }));
  update({ phase: "creating", done: 0 });
  const job = await createJob("IMPORT_ASSET_FROM_SIGNED_URL", {
    ImportAssetFromSignedUrl: { AssetName: file.name, DataSetId: dataSetId, RevisionId: revisionId, Md5Hash: md5 },
  });
  update({ job });
  const url = job.Details?.ImportAssetFromSignedUrl?.SignedUrl;
  if (!url) throw new ApiError("MissingSignedUrl", "CreateJob returned no SignedUrl", 0);
  update({ phase: "uploading" });
  await put(url, file, md5, (done) => update({ done }));
  update({ phase: "starting" });
  await startJob(job.Id);
  update({ phase: "importing" });
  const end = await waitJob(job.Id, (j) => update({ job: j }), 700);
  if (end.State !== "COMPLETED") {
    const e = end.Errors?.[0];
    throw new ApiError(e?.Code ?? end.State, e?.Message ?? `the import job ended ${end.State}`, 0);
  }
  update({ phase: "done", job: end });
  return end;
}

/** download exports an asset to a signed URL and has the browser fetch it. */
export async function download(dataSetId: string, revisionId: string, assetId: string, name: string, onJob?: (j: Job) => void): Promise<Job> {
  const job = await runJob("EXPORT_ASSET_TO_SIGNED_URL", {
    ExportAssetToSignedUrl: { AssetId: assetId, DataSetId: dataSetId, RevisionId: revisionId },
  });
  onJob?.(job);
  const end = await waitJob(job.Id, onJob, 400);
  if (end.State !== "COMPLETED") {
    const e = end.Errors?.[0];
    throw new ApiError(e?.Code ?? end.State, e?.Message ?? `the export job ended ${end.State}`, 0);
  }
  const url = end.Details?.ExportAssetToSignedUrl?.SignedUrl;
  if (!url) throw new ApiError("MissingSignedUrl", "the completed job has no SignedUrl", 0);
  const a = document.createElement("a");
  a.href = url;
  a.download = name.split("/").pop() || "asset";
  a.rel = "noopener";
  document.body.appendChild(a);
  a.click();
  a.remove();
  return end;
}
