package deploy_test

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// dockerfileStages reads ../Dockerfile as instructions (continuation
// lines joined, comments and blank lines left out), split per stage.
func dockerfileStages(t *testing.T) [][]string {
	t.Helper()
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string
	cur := ""
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		instr := cur + trimmed
		cur = ""
		if strings.HasPrefix(instr, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("instruction before the first FROM: %s", instr)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], instr)
	}
	return stages
}

// The Go stage runs on the build platform and cross-compiles: it declares
// the target platform's arguments before it builds, and its -target
// expression gives the release tool's platform names for the platforms
// deploy/README.md builds. The final stage is of the target platform.
func TestDockerfileCrossCompiles(t *testing.T) {
	stages := dockerfileStages(t)
	if len(stages) != 2 {
		t.Fatalf("%d stages, want build and final", len(stages))
	}
	build, final := stages[0], stages[1]
	if !strings.HasPrefix(build[0], "FROM --platform=$BUILDPLATFORM golang:") {
		t.Errorf("build stage: %s; want FROM --platform=$BUILDPLATFORM golang:...", build[0])
	}
	if strings.Contains(final[0], "--platform") {
		t.Errorf("final stage: %s; it must be of the target platform", final[0])
	}
	declared := map[string]bool{}
	var target string
	for _, instr := range build {
		if name, ok := strings.CutPrefix(instr, "ARG "); ok {
			declared[strings.SplitN(name, "=", 2)[0]] = true
		}
		if m := regexp.MustCompile(`-target "([^"]*)"`).FindStringSubmatch(instr); m != nil && strings.HasPrefix(instr, "RUN ") {
			for _, arg := range []string{"TARGETOS", "TARGETARCH", "TARGETVARIANT"} {
				if !declared[arg] {
					t.Errorf("ARG %s is not declared before %s", arg, instr)
				}
			}
			target = m[1]
		}
	}
	if target == "" {
		t.Fatal("no RUN ... -target \"...\" in the build stage")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`docker buildx build --platform (\S+)`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("deploy/README.md shows no docker buildx build --platform ...")
	}
	for _, platform := range strings.Split(string(m[1]), ",") {
		p := strings.Split(platform, "/")
		variant := ""
		if len(p) == 3 {
			variant = p[2]
		}
		// as BuildKit sets them for the platform
		cmd := exec.Command("sh", "-c", `printf %s "`+target+`"`)
		cmd.Env = append(os.Environ(), "TARGETOS="+p[0], "TARGETARCH="+p[1], "TARGETVARIANT="+variant)
		out, err := cmd.Output()
		if err != nil || string(out) != platform {
			t.Errorf("%s: -target %q expands to %q (%v)", platform, target, out, err)
		}
	}
}
