// Command render renders a Helm chart the way `helm template` does, for CI where the helm binary
// cannot be installed (it is neither in Debian nor on PyPI or npm). It builds offline from
// Debian's Go and Debian's packages of the libraries Helm itself uses: sprig (the template
// functions), ghodss/yaml (what sigs.k8s.io/yaml was forked from: YAML through JSON, so numbers
// are float64 as in Helm) and gojsonschema (values.schema.json; Helm 3 used it up to 3.14).
//
// What it implements, as Helm's engine does: Go's text/template with sprig's functions (minus
// env and expandenv), include, tpl, required, fail, toYaml, fromYaml, fromYamlArray, toJson,
// fromJson, fromJsonArray, lookup (always empty, as in `helm template`), .Values (values.yaml
// coalesced with each -f file in turn; a null deletes a key), validated against
// values.schema.json; .Release, .Chart, .Capabilities (--kube-version, --api-versions),
// .Template, .Files.Get; missing keys render empty; partials (_*.tpl) and NOTES.txt are not
// manifests; manifests come out in Helm's install order with "# Source:" comments.
//
// What it does not: subcharts and dependencies, --set flags, hooks' special handling, toToml,
// .Files.Glob/AsConfig/AsSecrets, library charts, and `helm lint`'s own rules (the Python test
// beside the chart checks what we rely on).
//
// Usage: render -chart DIR [-f values.yaml]... [-name tocsin] [-namespace default]
//
//	[-kube-version 1.31.0] [-api-versions monitoring.coreos.com/v1]... [-notes]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/ghodss/yaml"
	"github.com/xeipuuv/gojsonschema"
)

// Metadata is Chart.yaml as templates see it (.Chart.Name, .Chart.AppVersion, ...).
type Metadata struct {
	Name         string            `json:"name"`
	Home         string            `json:"home,omitempty"`
	Sources      []string          `json:"sources,omitempty"`
	Version      string            `json:"version"`
	Description  string            `json:"description,omitempty"`
	Keywords     []string          `json:"keywords,omitempty"`
	Icon         string            `json:"icon,omitempty"`
	APIVersion   string            `json:"apiVersion"`
	AppVersion   string            `json:"appVersion,omitempty"`
	KubeVersion  string            `json:"kubeVersion,omitempty"`
	Type         string            `json:"type,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Deprecated   bool              `json:"deprecated,omitempty"`
	Dependencies []interface{}     `json:"dependencies,omitempty"`
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

// VersionSet is .Capabilities.APIVersions.
type VersionSet []string

// Has says whether an API version ("monitoring.coreos.com/v1") or a version/kind is known.
func (v VersionSet) Has(apiVersion string) bool {
	for _, known := range v {
		if known == apiVersion {
			return true
		}
	}
	return false
}

// Capabilities is .Capabilities.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
}

// TemplateInfo is .Template.
type TemplateInfo struct {
	Name     string
	BasePath string
}

// Files is .Files: the chart's files other than templates.
type Files map[string][]byte

// Get returns a file's text ("" when absent).
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's bytes.
func (f Files) GetBytes(name string) []byte { return f[name] }

// Kubernetes' builtin API versions, as `helm template` assumes without a cluster.
var builtinAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2", "policy/v1",
	"networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "storage.k8s.io/v1",
	"apiextensions.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1",
}

// installOrder is Helm's releaseutil.InstallOrder: manifests come out in this kind order.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
	"PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList",
	"ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
	"CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
	"ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service",
	"DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
	"APIService",
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var valueFiles, apiVersions multiFlag
	chartDir := flag.String("chart", "", "the chart's directory")
	name := flag.String("name", "release-name", "the release name")
	namespace := flag.String("namespace", "default", "the release namespace")
	kubeVersion := flag.String("kube-version", "1.31.0", "Kubernetes version for .Capabilities")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	flag.Var(&valueFiles, "f", "a values file (repeatable; later ones win)")
	flag.Var(&apiVersions, "api-versions", "an extra API version for .Capabilities (repeatable)")
	flag.Parse()
	if *chartDir == "" {
		fail(errors.New("-chart is required"))
	}
	out, err := render(*chartDir, valueFiles, *name, *namespace, *kubeVersion, apiVersions, *notes)
	if err != nil {
		fail(err)
	}
	fmt.Print(out)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "Error: %s\n", err)
	os.Exit(1)
}

func render(chartDir string, valueFiles []string, name, namespace, kubeVersion string,
	apiVersions []string, notes bool) (string, error) {
	var meta Metadata
	if err := readYAML(filepath.Join(chartDir, "Chart.yaml"), &meta); err != nil {
		return "", err
	}
	values := map[string]interface{}{}
	if err := readYAML(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		return "", err
	}
	for _, file := range valueFiles {
		user := map[string]interface{}{}
		if err := readYAML(file, &user); err != nil {
			return "", err
		}
		values = coalesce(user, values)
	}
	if err := validateValues(chartDir, meta.Name, values); err != nil {
		return "", err
	}
	caps, err := capabilities(kubeVersion, apiVersions)
	if err != nil {
		return "", err
	}
	files, sources, err := readChart(chartDir, meta.Name)
	if err != nil {
		return "", err
	}
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": name, "Namespace": namespace, "IsInstall": true, "IsUpgrade": false,
			"Revision": 1, "Service": "Helm",
		},
		"Chart":        meta,
		"Capabilities": caps,
		"Files":        files,
		"Subcharts":    map[string]interface{}{},
	}
	return execute(sources, top, meta.Name, notes)
}

func readYAML(path string, into interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// coalesce merges src (user values) over dst (defaults): maps merge key by key, anything else
// in src wins, and a null in src deletes the key (as Helm's chartutil.CoalesceTables).
func coalesce(src, dst map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for key, value := range dst {
		out[key] = value
	}
	for key, value := range src {
		if value == nil {
			delete(out, key)
			continue
		}
		srcMap, srcIsMap := value.(map[string]interface{})
		dstMap, dstIsMap := out[key].(map[string]interface{})
		if srcIsMap && dstIsMap {
			out[key] = coalesce(srcMap, dstMap)
		} else {
			out[key] = value
		}
	}
	return out
}

func validateValues(chartDir, chartName string, values map[string]interface{}) error {
	schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	document, err := json.Marshal(values)
	if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(
		gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(document))
	if err != nil {
		return fmt.Errorf("values.schema.json: %w", err)
	}
	if result.Valid() {
		return nil
	}
	var problems strings.Builder
	for _, problem := range result.Errors() {
		fmt.Fprintf(&problems, "- %s\n", problem)
	}
	return fmt.Errorf("values don't meet the specifications of the schema(s) in the following "+
		"chart(s):\n%s:\n%s", chartName, problems.String())
}

func capabilities(kubeVersion string, extra []string) (Capabilities, error) {
	match := regexp.MustCompile(`^v?(\d+)\.(\d+)\.\d+$`).FindStringSubmatch(kubeVersion)
	if match == nil {
		return Capabilities{}, fmt.Errorf("-kube-version %q is not MAJOR.MINOR.PATCH", kubeVersion)
	}
	version := "v" + strings.TrimPrefix(kubeVersion, "v")
	apis := append(VersionSet{}, builtinAPIVersions...)
	return Capabilities{
		KubeVersion: KubeVersion{Version: version, Major: match[1], Minor: match[2],
			GitVersion: version},
		APIVersions: append(apis, extra...),
	}, nil
}

// readChart returns the chart's non-template files (.Files) and its templates by Helm's
// template names ("CHART/templates/x.yaml").
func readChart(chartDir, chartName string) (Files, map[string]string, error) {
	files := Files{}
	sources := map[string]string{}
	err := filepath.Walk(chartDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(chartDir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "templates/") {
			sources[chartName+"/"+rel] = string(data)
		} else {
			files[rel] = data
		}
		return nil
	})
	return files, sources, err
}

func execute(sources map[string]string, top map[string]interface{}, chartName string,
	notes bool) (string, error) {
	root := template.New("gotpl").Option("missingkey=zero")
	funcs := funcMap(root)
	root.Funcs(funcs)
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := root.New(name).Parse(sources[name]); err != nil {
			return "", fmt.Errorf("parse error in %q: %w", name, err)
		}
	}
	basePath := chartName + "/templates"
	notesName := basePath + "/NOTES.txt"
	var docs []document
	for _, name := range names {
		base := filepath.Base(name)
		isNotes := name == notesName
		if strings.HasPrefix(base, "_") || isNotes != notes {
			continue
		}
		data := map[string]interface{}{}
		for key, value := range top {
			data[key] = value
		}
		data["Template"] = TemplateInfo{Name: name, BasePath: basePath}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, data); err != nil {
			return "", cleanError(err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if notes {
			return text, nil
		}
		docs = append(docs, split(name, text)...)
	}
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].rank() < docs[j].rank() })
	var out strings.Builder
	for _, doc := range docs {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", doc.source, doc.body)
	}
	return out.String(), nil
}

type document struct {
	source string
	body   string
	kind   string
}

func (d document) rank() int {
	for i, kind := range installOrder {
		if kind == d.kind {
			return i
		}
	}
	return len(installOrder)
}

var kindLine = regexp.MustCompile(`(?m)^kind:\s*["']?([A-Za-z]+)`)
var separator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// split cuts one template's output into its YAML documents, dropping empty ones.
func split(source, text string) []document {
	var docs []document
	for _, part := range separator.Split(text, -1) {
		body := strings.TrimSpace(part)
		if body == "" || onlyComments(body) {
			continue
		}
		kind := ""
		if match := kindLine.FindStringSubmatch(body); match != nil {
			kind = match[1]
		}
		docs = append(docs, document{source: source, body: body, kind: kind})
	}
	return docs
}

func onlyComments(body string) bool {
	for _, line := range strings.Split(body, "\n") {
		if trimmed := strings.TrimSpace(line); trimmed != "" && !strings.HasPrefix(trimmed, "#") {
			return false
		}
	}
	return true
}

// cleanError shortens text/template's errors the way Helm does for fail and required:
// "execution error at (tocsin/templates/x.yaml:3:4): message".
func cleanError(err error) error {
	message := err.Error()
	const marker = "error calling "
	i := strings.LastIndex(message, marker)
	if i < 0 {
		return err
	}
	prefix := message[:i]
	start := strings.LastIndex(prefix, "template: ")
	end := strings.LastIndex(prefix, ": executing ")
	if start < 0 || end < start {
		return err
	}
	rest := message[i+len(marker):]
	if k := strings.Index(rest, ": "); k >= 0 {
		rest = rest[k+2:]
	}
	return fmt.Errorf("execution error at (%s): %s", prefix[start+len("template: "):end], rest)
}

func funcMap(root *template.Template) template.FuncMap {
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	includeDepth := map[string]int{}
	extra := template.FuncMap{
		"toYaml":        toYaml,
		"mustToYaml":    mustToYaml,
		"fromYaml":      fromYaml,
		"fromYamlArray": fromYamlArray,
		"toJson":        toJson,
		"mustToJson":    mustToJson,
		"fromJson":      fromJson,
		"fromJsonArray": fromJsonArray,
		"required": func(message string, value interface{}) (interface{}, error) {
			if value == nil {
				return value, errors.New(message)
			}
			if text, ok := value.(string); ok && text == "" {
				return value, errors.New(message)
			}
			return value, nil
		},
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
		"include": func(name string, data interface{}) (string, error) {
			if includeDepth[name] > 1000 {
				return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
			}
			includeDepth[name]++
			defer func() { includeDepth[name]-- }()
			var buf bytes.Buffer
			if err := root.ExecuteTemplate(&buf, name, data); err != nil {
				return "", err
			}
			return buf.String(), nil
		},
		"tpl": func(text string, data interface{}) (string, error) {
			clone, err := root.Clone()
			if err != nil {
				return "", err
			}
			parsed, err := clone.New("tpl").Parse(text)
			if err != nil {
				return "", fmt.Errorf("cannot parse template %q: %w", text, err)
			}
			var buf bytes.Buffer
			if err := parsed.Execute(&buf, data); err != nil {
				return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
			}
			return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
		},
	}
	for key, value := range extra {
		funcs[key] = value
	}
	return funcs
}

func toYaml(value interface{}) string {
	data, err := yaml.Marshal(value)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func mustToYaml(value interface{}) (string, error) {
	data, err := yaml.Marshal(value)
	return strings.TrimSuffix(string(data), "\n"), err
}

func fromYaml(text string) map[string]interface{} {
	out := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(text), &out); err != nil {
		out["Error"] = err.Error()
	}
	return out
}

func fromYamlArray(text string) []interface{} {
	var out []interface{}
	if err := yaml.Unmarshal([]byte(text), &out); err != nil {
		out = []interface{}{err.Error()}
	}
	return out
}

func toJson(value interface{}) string {
	data, err := json.Marshal(value)
	if err != nil {
		return ""
	}
	return string(data)
}

func mustToJson(value interface{}) (string, error) {
	data, err := json.Marshal(value)
	return string(data), err
}

func fromJson(text string) map[string]interface{} {
	out := map[string]interface{}{}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		out["Error"] = err.Error()
	}
	return out
}

func fromJsonArray(text string) []interface{} {
	var out []interface{}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		out = []interface{}{err.Error()}
	}
	return out
}
