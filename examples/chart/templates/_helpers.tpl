{{/*
The image reference, by digest only: `<repository>@sha256:<64 hex>`. Rendering fails when the
repository or the digest is missing, when the digest is not sha256:<64 lowercase hex> (a tag such
as `latest` or `v1.2.3` is refused), or when the repository itself carries a tag or digest.
*/}}
{{- define "hello.image" -}}
{{- $repo := required "image.repository is required (the image without tag or digest, e.g. ghcr.io/acme/hello)" .Values.image.repository -}}
{{- $digest := required "image.digest is required (sha256:<64 hex>): this chart deploys by digest, never by tag" .Values.image.digest -}}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" $digest) -}}
{{- fail (printf "image.digest must be sha256:<64 lowercase hex>, got %q: this chart deploys by digest, never by tag" $digest) -}}
{{- end -}}
{{- if or (contains "@" $repo) (regexMatch ":[^/]*$" $repo) -}}
{{- fail (printf "image.repository must name the repository only (no :tag, no @digest), got %q" $repo) -}}
{{- end -}}
{{- printf "%s@%s" $repo $digest -}}
{{- end -}}

{{- define "hello.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
