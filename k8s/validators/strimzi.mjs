// Validates Strimzi resources (JSON documents, one list on stdin) with the validators @kubernetes-models generates
// from Strimzi's CRDs: types, enums and required fields are checked; fields the CRD does not name are not refused.
// Prints one line per resource; exits 1 when any is invalid or of a kind it has no model for.
import * as groups from "@kubernetes-models/strimzi-kafka-operator";

// The package nests its models by group and version (kafkaStrimziIo.v1beta2.Kafka): collect every model class.
function collect(namespace, found = []) {
  for (const value of Object.values(namespace)) {
    if (typeof value === "function" && value.apiVersion && value.kind) found.push(value);
    else if (value && typeof value === "object") collect(value, found);
  }
  return found;
}
const models = collect(groups);

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});
let failed = 0;
for (const doc of JSON.parse(input)) {
  const name = `${doc.kind} ${doc.metadata?.name} (${doc.apiVersion})`;
  const model = models.find(
    (candidate) => candidate.apiVersion === doc.apiVersion && candidate.kind === doc.kind,
  );
  if (model === undefined) {
    console.log(`${name}: no model of this kind and version`);
    failed += 1;
    continue;
  }
  try {
    new model(doc).validate();
    console.log(`${name}: valid`);
  } catch (error) {
    console.log(`${name}: ${error.message}`);
    failed += 1;
  }
}
process.exit(failed ? 1 : 0);
