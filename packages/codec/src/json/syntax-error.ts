/**
 * Finds where JSON text stops being valid. Only called after JSON.parse has
 * failed, because V8's messages do not always carry a position.
 */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  const stack: boolean[] = []; // true: inside an object
  let i = 0;
  const skipSpace = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
  };
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[++i];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) return false;
          i += 4;
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) {
          return false;
        }
      }
    }
    return false;
  };
  const digits = (): boolean => {
    const start = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i > start;
  };
  const scalar = (): boolean => {
    const c = text[i];
    if (c === '"') return string();
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return true;
      }
    }
    if (c === "-") i++;
    if (text[i] === "0") i++;
    else if (!digits()) return false;
    if (text[i] === ".") {
      i++;
      if (!digits()) return false;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!digits()) return false;
    }
    return true;
  };
  // Each turn reads one value (opening containers as needed), then what follows it.
  for (;;) {
    skipSpace();
    if (text[i] === "{" || text[i] === "[") {
      const isObject = text[i] === "{";
      i++;
      skipSpace();
      if (text[i] === (isObject ? "}" : "]")) {
        i++;
      } else {
        stack.push(isObject);
        if (isObject && !key()) return i;
        continue;
      }
    } else if (!scalar()) {
      return i;
    }
    for (;;) {
      skipSpace();
      if (stack.length === 0) return i;
      const inObject = stack[stack.length - 1]!;
      if (text[i] === ",") {
        i++;
        if (inObject && !key()) return i;
        break;
      }
      if (text[i] !== (inObject ? "}" : "]")) return i;
      i++;
      stack.pop();
    }
  }

  function key(): boolean {
    skipSpace();
    if (!string()) return false;
    skipSpace();
    if (text[i] !== ":") return false;
    i++;
    return true;
  }
}
