/*
 * Moving through menus and grids with the keyboard. Pure: no DOM, importable by Node.
 */

/**
 * Where the focus goes from item `index` of `count` on `key`, in a grid `columns` wide
 * (1 for a menu): the new index, or -1 when the key is not a move. Up and Down wrap in
 * a menu; in a grid they go a row up or down and stop at the edges, as do Left and Right.
 */
export function moveIndex(key, index, count, columns = 1) {
  if (count <= 0) return -1;
  const at = index < 0 ? -1 : Math.min(index, count - 1);
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  if (columns <= 1) {
    if (key === "ArrowDown") return at < 0 ? 0 : (at + 1) % count;
    if (key === "ArrowUp") return at < 0 ? count - 1 : (at - 1 + count) % count;
    return -1;
  }
  if (at < 0) return ["ArrowDown", "ArrowUp", "ArrowLeft", "ArrowRight"].includes(key) ? 0 : -1;
  if (key === "ArrowRight") return Math.min(at + 1, count - 1);
  if (key === "ArrowLeft") return Math.max(at - 1, 0);
  if (key === "ArrowDown") return at + columns < count ? at + columns : at;
  if (key === "ArrowUp") return at - columns >= 0 ? at - columns : at;
  return -1;
}
