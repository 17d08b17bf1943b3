import { createRequire as __hallmarkCreateRequire } from "node:module"; const require = __hallmarkCreateRequire(import.meta.url);
import{a,b,c,d,e,f,g,h}from"./chunk-CZ2RHI56.js";import"./chunk-APUKJM4X.js";import"./chunk-LD2QUAJ7.js";export{b as Headers,h as HttpClient,e as HttpClientError,f as HttpClientResponse,a as HttpCodes,c as MediaTypes,d as getProxyUrl,g as isHttps};
