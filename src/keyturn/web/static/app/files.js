// Your files: upload with a progress bar, the `uploads` quota as a bar, list, download, delete.

import { api, download, upload } from "../api.js";
import { $, button, el, field, notice, progressBar, run, saveBlob, showError, when } from "../dom.js";
import { problemText, t } from "../i18n.js";
import { register } from "../router.js";

const ACCEPT = ".pdf,.docx,.txt,.png,.jpg,.jpeg,application/pdf,text/plain,image/png,image/jpeg";

function size(bytes) {
  if (bytes < 1024) return t("{n} bytes", { n: bytes });
  if (bytes < 1024 * 1024) return t("{n} KB", { n: (bytes / 1024).toFixed(1) });
  return t("{n} MB", { n: (bytes / 1024 / 1024).toFixed(1) });
}

async function renderQuota() {
  const usage = await api("GET", "/usage");
  const uploads = usage.counters.find((c) => c.name === "uploads");
  const box = $("quota");
  if (!uploads) {
    box.replaceChildren();
    return;
  }
  const full = uploads.remaining <= 0;
  box.replaceChildren(
    progressBar(uploads.used, uploads.limit, t("{used} of {limit} uploads used", uploads), { id: "quota-bar", class: `meter${full ? " full" : ""}` }),
  );
  if (full) box.append(el("p", { class: "muted", id: "quota-full", text: t("You have used every upload of your plan.") }));
}

async function renderFiles() {
  const files = await api("GET", "/files?limit=100");
  $("file-list").replaceChildren(
    ...files.items.map((f) =>
      el(
        "li",
        { class: "line", dataset: { fileId: f.id } },
        el("div", { class: "line-main" }, el("strong", { text: f.filename }), el("small", { class: "muted", text: `${size(f.size)} · ${when(f.created_at)}` })),
        el(
          "div",
          { class: "line-actions" },
          button(t("Download"), async () => {
            const { blob, filename } = await download(`/files/${f.id}/content`);
            saveBlob(blob, filename);
          }, { class: "ghost small", "aria-label": t("Download {name}", { name: f.filename }) }),
          button(t("Delete"), async () => {
            await api("DELETE", `/files/${f.id}`);
            notice(t("{name} deleted.", { name: f.filename }));
            await renderFiles();
          }, { class: "ghost small danger", "aria-label": t("Delete {name}", { name: f.filename }) }),
        ),
      ),
    ),
  );
  $("files-empty").hidden = files.items.length > 0;
}

async function sendFile(file) {
  const bar = $("upload-progress");
  const text = bar.querySelector(".meter-text");
  const progress = bar.querySelector("progress");
  bar.hidden = false;
  progress.value = 0;
  text.textContent = t("Uploading {name}…", { name: file.name });
  const body = new FormData();
  body.append("file", file, file.name);
  try {
    await upload("/files", body, {
      onProgress: (sent, total) => {
        progress.value = sent;
        progress.max = total;
        text.textContent = t("Uploading {name}: {percent}%", { name: file.name, percent: Math.round((100 * sent) / total) });
      },
    });
    text.textContent = t("{name} uploaded.", { name: file.name });
    notice(t("{name} uploaded.", { name: file.name }));
  } catch (err) {
    bar.hidden = true;
    const refusal = $("upload-refusal");
    refusal.textContent = problemText(err);
    refusal.hidden = false;
    if (err.status !== 429) showError(err);
    return;
  } finally {
    await run(null, () => Promise.all([renderQuota(), renderFiles()]));
  }
}

async function mount(root) {
  const picker = el("input", { type: "file", id: "file-input", name: "file", accept: ACCEPT, class: "input" });
  const send = el("button", {
    type: "button",
    id: "upload",
    class: "primary",
    text: t("Upload"),
    onclick: async () => {
      $("upload-refusal").hidden = true;
      const file = picker.files[0];
      if (!file) {
        notice(t("Choose a file first."), "error");
        picker.focus();
        return;
      }
      send.disabled = true;
      picker.value = ""; // ready for the next file as soon as this one is on its way
      try {
        await sendFile(file);
      } finally {
        send.disabled = false;
      }
    },
  });
  root.append(
    el(
      "section",
      { id: "files", class: "card", "aria-labelledby": "files-title" },
      el("h2", { id: "files-title", text: t("Files") }),
      el("div", { id: "quota", "aria-live": "polite" }),
      el("div", { class: "upload-row" }, field(t("A file to upload"), picker, t("PDF, DOCX, TXT, PNG or JPEG, up to 10 MB.")), send),
      progressBar(0, 1, "", { id: "upload-progress", hidden: true, "aria-live": "polite" }),
      el("p", { id: "upload-refusal", class: "refusal", role: "alert", hidden: true }),
      el("ul", { id: "file-list", class: "lines" }),
      el("p", { id: "files-empty", class: "muted", text: t("No files yet.") }),
    ),
  );
  await Promise.all([renderQuota(), renderFiles()]);
}

register({ id: "files", label: "Files", nav: true, order: 30, signedIn: true, mount });
