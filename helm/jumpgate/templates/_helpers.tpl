{{- define "jumpgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "jumpgate.labels" -}}
app.kubernetes.io/name: jumpgate-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "jumpgate.selectorLabels" -}}
app.kubernetes.io/name: jumpgate-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "jumpgate.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The operator's rights: its own resources, and the objects it makes for each tunnel. */}}
{{- define "jumpgate.rules" -}}
- apiGroups: [jumpgate.dev]
  resources: [reversetunnels]
  verbs: [get, list, watch, patch, update]
- apiGroups: [jumpgate.dev]
  resources: [reversetunnels/status]
  verbs: [get, patch, update]
# Generated keys; users' key Secrets, read to check they exist and to show their public half; each agent's list of
# members. Agents' Roles grant get/watch on these, which RBAC requires the operator to hold.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, update, patch, delete]
# The agents' report channel (agents' Roles grant a subset of these, which RBAC requires the operator to hold).
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
# One per agent pod: where it may connect (agent.networkPolicy).
- apiGroups: [networking.k8s.io]
  resources: [networkpolicies]
  verbs: [get, list, watch, create, update, patch, delete]
{{- end -}}

{{/*
The namespaces the operator serves, comma-separated: those listed, else the release's own. Empty with
watchAllNamespaces.
*/}}
{{- define "jumpgate.watchNamespaces" -}}
{{- if .Values.watchAllNamespaces -}}
{{- else if .Values.watchNamespaces -}}
{{- join "," .Values.watchNamespaces -}}
{{- else -}}
{{- .Release.Namespace -}}
{{- end -}}
{{- end -}}
