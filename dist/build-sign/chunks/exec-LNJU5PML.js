import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);
import{a,b}from"./chunk-BQHVGCJF.js";import"./chunk-LD2QUAJ7.js";export{a as exec,b as getExecOutput};
