// What js-glue's tests use of node:path, for jsc.
/** Joins path segments with "/" and normalises "." and "..". */
export function join(...parts) {
  const abs = parts[0]?.startsWith("/");
  const out = [];
  for (const seg of parts.join("/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else out.push(seg);
  }
  return (abs ? "/" : "") + out.join("/");
}
