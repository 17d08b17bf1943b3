import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);
import{d as a,e as b}from"./chunk-LL7QSLOR.js";import"./chunk-LD2QUAJ7.js";export{a as exec,b as getExecOutput};
