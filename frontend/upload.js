// The upload widget of a submission's page: Uppy's dashboard with its S3 multipart plugin.
//
// The parts go from the browser straight to storage on presigned URLs; our API only opens the
// multipart upload (E11), signs each part (E12), lists what storage already holds (to resume),
// and completes it (E14) with the file's SHA-256, which is hashed here while the parts upload.
// Golden Retriever keeps the upload's state across a reload: the page resumes where it stopped
// (a large file is asked for again, then only its missing parts are sent).
import AwsS3 from '@uppy/aws-s3'
import Uppy from '@uppy/core'
import '@uppy/core/css/style.min.css'
import Dashboard from '@uppy/dashboard'
import '@uppy/dashboard/css/style.min.css'
import GoldenRetriever from '@uppy/golden-retriever'
import { createSHA256 } from 'hash-wasm'

const MiB = 1024 * 1024
const MAX_PARTS = 10000
const HASH_SLICE = 8 * MiB

function csrfToken () {
  const meta = document.querySelector('meta[name="csrf-token"]')
  return meta ? meta.content : ''
}

async function api (method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  const data = text ? JSON.parse(text) : {}
  if (!response.ok) {
    const error = new Error(data.message || `${method} ${url} answered ${response.status}`)
    error.status = response.status
    throw error
  }
  return data
}

// Parts of at least 8 MiB, larger when needed to stay within 10,000 parts.
export function partSize (size) {
  return Math.max(8 * MiB, Math.ceil(size / MAX_PARTS / MiB) * MiB)
}

// SHA-256 of the whole file, read in slices (never all of it in memory).
async function sha256Of (blob, onProgress) {
  const hasher = await createSHA256()
  hasher.init()
  for (let offset = 0; offset < blob.size; offset += HASH_SLICE) {
    const slice = blob.slice(offset, offset + HASH_SLICE)
    hasher.update(new Uint8Array(await slice.arrayBuffer()))
    onProgress(Math.min(offset + HASH_SLICE, blob.size) / blob.size)
  }
  return hasher.digest('hex')
}

// What the widget says, in the page's language: the template sets each text as a data-text-*
// attribute of the widget (data-text-hashing="… {percent}%"), English when it does not.
const TEXTS = {
  sampleNote: 'A small .tar.gz sample anyone may download.',
  archiveNote: 'The dataset as one .tar.gz archive.',
  hashing: "Computing the file's SHA-256: {percent}%",
  hashed: 'SHA-256 computed.',
  checking: 'Checking the parts and the SHA-256 in storage…',
  resume: 'File found again: resume the upload.',
  failed: 'Upload failed: {error}',
  uploaded: 'Uploaded. Reloading the page…'
}

export function textOf (element, name, values = {}) {
  const key = 'text' + name[0].toUpperCase() + name.slice(1)
  const template = element.dataset[key] || TEXTS[name]
  return template.replace(/\{(\w+)\}/g, (whole, field) => (field in values ? String(values[field]) : whole))
}

// Uppy's own words (its dashboard's "Drop files here", "browse files"…), translated by the page
// as a JSON object of Uppy's locale keys in data-uppy-strings; Uppy's English fills the rest.
function uppyLocale (element) {
  try {
    const strings = JSON.parse(element.dataset.uppyStrings || '{}')
    return Object.keys(strings).length ? { strings } : undefined
  } catch {
    return undefined
  }
}

function mountUploader (element) {
  const { kind, submission, startUrl, partsUrl, completeUrl, storedPartsUrl, abortUrl } = element.dataset
  const status = element.querySelector('[data-upload-status]')
  const say = (text) => { if (status) status.textContent = text }
  const text = (name, values) => textOf(element, name, values)
  const locale = uppyLocale(element)
  const hashes = new Map() // Uppy file id -> Promise of the hex digest

  const uppy = new Uppy({
    id: `${kind}-${submission}`,
    autoProceed: false,
    // Uppy compares the last extension only; the server insists on .tar.gz or .tgz.
    restrictions: { maxNumberOfFiles: 1, allowedFileTypes: ['.gz', '.tgz'] },
    ...(locale ? { locale } : {})
  })
  uppy.use(Dashboard, {
    inline: true,
    target: element.querySelector('[data-upload-target]'),
    height: 320,
    showProgressDetails: true,
    proudlyDisplayPoweredByUppy: false,
    note: kind === 'sample' ? text('sampleNote') : text('archiveNote'),
    ...(locale ? { locale } : {})
  })
  uppy.use(GoldenRetriever, { serviceWorker: false })

  const digestOf = (file) => {
    if (!hashes.has(file.id)) {
      hashes.set(file.id, sha256Of(file.data, (done) => {
        if (done < 1) say(text('hashing', { percent: Math.floor(done * 100) }))
        else say(text('hashed'))
      }))
    }
    return hashes.get(file.id)
  }

  uppy.use(AwsS3, {
    shouldUseMultipart: () => true,
    limit: 4, // parts in flight at once, as the SDK's default max_workers
    retryDelays: [0, 1000, 3000, 5000],
    getChunkSize: (file) => partSize(file.size),
    async createMultipartUpload (file) {
      const started = await api('POST', startUrl, {
        submissionId: submission, filename: file.name, fileSize: file.size, mimeType: 'application/gzip'
      })
      return { uploadId: started.uploadId, key: started.fileUploadId }
    },
    async signPart (file, { key, partNumber }) {
      const signed = await api('GET', partsUrl.replace('FILE_UPLOAD_ID', key).replace('PART_NUMBER', partNumber))
      return { method: 'PUT', url: signed.url }
    },
    async listParts (file, { key }) {
      const listed = await api('GET', storedPartsUrl.replace('FILE_UPLOAD_ID', key))
      return listed.parts.map((part) => ({ PartNumber: part.partNumber, Size: part.size, ETag: part.etag }))
    },
    async completeMultipartUpload (file, { key, uploadId, parts }) {
      const checksum = await digestOf(file)
      say(text('checking'))
      const sorted = [...parts].sort((a, b) => a.PartNumber - b.PartNumber)
      await api('POST', completeUrl.replace('FILE_UPLOAD_ID', key), {
        uploadId,
        checksum,
        parts: sorted.map((part) => ({ partNumber: part.PartNumber, etag: part.ETag.replace(/"/g, '') }))
      })
      return { location: '' }
    },
    async abortMultipartUpload (file, { key }) {
      await api('DELETE', abortUrl.replace('FILE_UPLOAD_ID', key))
    }
  })

  // A file too large for Golden Retriever to keep comes back as a "ghost": its upload state is
  // known, its bytes are not. Choosing the same file again resumes it (only missing parts are sent).
  const again = element.querySelector('[data-upload-again]')
  if (again) {
    const input = again.querySelector('input[type=file]')
    uppy.on('restored', () => {
      const ghost = uppy.getFiles().find((file) => file.isGhost)
      if (!ghost) return
      again.querySelector('[data-upload-again-name]').textContent = ghost.name
      again.hidden = false
    })
    input.addEventListener('change', () => {
      const chosen = input.files[0]
      if (!chosen) return
      try {
        uppy.addFile({ name: chosen.name, type: chosen.type, data: chosen, source: 'Local' })
        again.hidden = true
        say(text('resume'))
      } catch (error) {
        say(error.message)
      }
      input.value = ''
    })
  }

  uppy.on('upload', (_id, files) => files.forEach((file) => { digestOf(file) }))
  uppy.on('upload-error', (file, error) => say(text('failed', { error: error.message })))
  uppy.on('complete', (result) => {
    if (result.successful && result.successful.length && !(result.failed && result.failed.length)) {
      say(text('uploaded'))
      window.setTimeout(() => window.location.reload(), 500)
    }
  })
  element.uppy = uppy
}

document.querySelectorAll('[data-upload]').forEach(mountUploader)
