{{/* Labels every object of the release carries. */}}
{{- define "vitess-apiserver.labels" -}}
app.kubernetes.io/name: vitess-apiserver
app.kubernetes.io/part-of: vitess-apiserver
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{/* The server's image reference. */}}
{{- define "vitess-apiserver.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* The etcd members' client URLs, comma-separated. */}}
{{- define "vitess-apiserver.etcdServers" -}}
{{- $urls := list -}}
{{- range $i := until (int .Values.etcd.members) -}}
{{- $urls = append $urls (printf "https://vitess-apiserver-etcd-%d.vitess-apiserver-etcd.%s.svc:2379" $i $.Release.Namespace) -}}
{{- end -}}
{{ join "," $urls }}
{{- end }}

{{/* The etcd members' peer URLs, as etcd's --initial-cluster wants them. */}}
{{- define "vitess-apiserver.etcdInitialCluster" -}}
{{- $members := list -}}
{{- range $i := until (int .Values.etcd.members) -}}
{{- $members = append $members (printf "vitess-apiserver-etcd-%d=https://vitess-apiserver-etcd-%d.vitess-apiserver-etcd.%s.svc:2380" $i $i $.Release.Namespace) -}}
{{- end -}}
{{ join "," $members }}
{{- end }}
