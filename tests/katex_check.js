// Reads a JSON array of {tex, display} from standard input and renders each with KaTeX
// in strict mode; prints a JSON array of error messages (null where a formula parsed).
const path = require("path");
const katex = require(process.env.KATEX_PATH || path.join(__dirname, "..", ".ci", "node", "node_modules", "katex"));
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(({ tex, display }) => {
    try {
      katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" });
      return null;
    } catch (e) {
      return String(e.message || e);
    }
  });
  process.stdout.write(JSON.stringify(results));
});
